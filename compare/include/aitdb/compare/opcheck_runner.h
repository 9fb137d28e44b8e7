#pragma once
// `aitdb opcheck RUN`: every leaf op of an ATB run recomputed on the CPU from its own dumped
// inputs (opcheck_kernels.h) and judged by msit's pass criteria (opcheck_criteria.h); results go
// to `opcheck_results`; query/opcheck_export.h writes them as msit's report CSV (docs/opcheck.md).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "aitdb/compare/opcheck_criteria.h"
#include "aitdb/schema/comparison_store.h"

namespace aitdb::compare {

struct OpcheckOptions {
  std::vector<std::string> ids;      // id path prefixes: "1_2" selects 1_2 and every 1_2_*
  std::vector<std::string> opnames;  // case-insensitive substrings of the op type
  OpcheckMetricSelection metrics;
  PrecisionMode precision_mode = PrecisionMode::Keep;
  unsigned jobs = 0;  // 0 = one per core
  // Called from worker threads after each op (done, total); serialised by the runner.
  std::function<void(std::size_t, std::size_t)> on_progress;
};

struct OpcheckSummary {
  std::int64_t run_id = 0;
  std::size_t ops = 0;  // ops with a verdict: passed + failed + not_supported
  std::size_t passed = 0;
  std::size_t failed = 0;
  std::size_t not_supported = 0;
  std::vector<OpcheckResultRow> rows;  // msit's report order: (op_id, out_tensor_id)
  double load_seconds = 0;    // summed over workers: blob reads and decoding
  double kernel_seconds = 0;  // summed over workers: golden recomputation and checks
  double seconds = 0;
};

// Checks the selected ops of `run` and stores the rows (replacing earlier rows of those ops).
OpcheckSummary run_opcheck(Store& store, const std::string& run, const OpcheckOptions& options);

}  // namespace aitdb::compare
