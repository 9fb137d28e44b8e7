#pragma once
// Reader of the probe's operation/kernel io CSV (docs/formats.md, "Operation and kernel io CSV"):
// operation_io_tensors/{PID}/operation_tensors_{n}.csv and kernel_io_tensors/{PID}/kernel_tensors_{n}.csv.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/schema/ingest_transaction.h"
#include "probe_lines.h"

namespace aitdb::ingest {

struct OpIoCsv {
  // Rows as the file states them; the caller adds pid, execute count and the op-graph keys.
  std::vector<OpIoRecord> rows;
  std::vector<LineError> errors;  // bad rows, each left out
};

// `kind`: "operation" or "kernel" (which file it is; decides how OpName and OpParam read).
// Columns are found by header name; a header without the columns rows need is a FormatError
// naming `display_path`, as is anything larger than limits.max_file_size.
OpIoCsv read_op_io_csv(std::span<const std::byte> bytes, const std::string& display_path, const std::string& kind,
                       const ReadLimits& limits);
OpIoCsv read_op_io_csv(std::string_view text, const std::string& display_path, const std::string& kind);

}  // namespace aitdb::ingest
