#pragma once
// Reader of the probe's cpu_profiling statistics (docs/formats.md, "cpu_profiling"): the raw
// operation_statistic_{n}.txt lines and msit's converted operation_statistic_{n}.csv.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/schema/ingest_transaction.h"
#include "probe_lines.h"

namespace aitdb::ingest {

struct CpuProfiling {
  // One record per key and line, in file order; the caller adds pid, execute count and op keys.
  std::vector<CpuProfilingRecord> records;
  std::vector<LineError> errors;  // bad lines, each left out
};

// `[{opName}]:{key}:{value}, {key}:{value}, ...` lines.
CpuProfiling read_cpu_profiling_txt(std::string_view text);
// `opname,{setup|execute}_{key},...` with one row per op; a header without `opname` is a
// FormatError naming `display_path`.
CpuProfiling read_cpu_profiling_csv(std::string_view text, const std::string& display_path);
// Either, by the name's extension (.txt / .csv), from bytes refused above limits.max_file_size.
CpuProfiling read_cpu_profiling(std::span<const std::byte> bytes, const std::string& display_path,
                                const ReadLimits& limits);

}  // namespace aitdb::ingest
