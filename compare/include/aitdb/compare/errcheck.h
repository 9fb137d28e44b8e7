#pragma once
// `aitdb errcheck RUN`: overflow detection offline, from the stored tensors (docs/cli.md). msit's
// probe checks fp16 and bf16 outputs as fp16 bit patterns and ignores NaN; this counts NaN and inf
// per tensor from the statistics computed at ingest with each dtype's own layout, values
// saturated at the dtype's largest finite value (what the NPU's saturation mode leaves instead of
// inf) from the blob, and names the first op of each rank, in execution order, whose outputs
// overflowed while its inputs did not.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb::compare {

struct ErrcheckSummary {
  std::int64_t run_id = 0;
  std::size_t tensors_checked = 0;
  std::size_t tensors_overflowed = 0;  // rows written to errcheck_results (source 'scan')
  std::size_t first_ops = 0;           // ops flagged first_overflow (at most one per rank)
  std::size_t msit_events = 0;         // lines of msit_overflow_res_{pid}.txt files in the run
  std::vector<std::string> warnings;   // "FILE:LINE: reason" of lines that were not events
};

// Scans `run`, replaces its 'scan' rows of errcheck_results, and its 'msit_overflow_res' rows with
// the events of the run's msit_overflow_res_{pid}.txt files (docs/formats.md, "msit overflow
// report"), linked to the op node of that pid's rank and
// id path, earliest token first). View errcheck_report shows both.
ErrcheckSummary run_errcheck(Store& store, const std::string& run);

// Elements of `bytes` (dtype fp16, bf16 or fp32) whose magnitude is the dtype's largest finite
// value; 0 for other dtypes.
std::int64_t count_saturated(DType dtype, std::span<const std::byte> bytes);

}  // namespace aitdb::compare
