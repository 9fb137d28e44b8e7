#pragma once
// msit's opcheck report (docs/compare.md) as CSV instead of xlsx: same columns, same order.
#include <filesystem>
#include <vector>

#include "aitdb/schema/comparison_store.h"

namespace aitdb::query {

// Which of msit's optional metric columns the report has (`--metric abs cos_sim kl`).
struct OpcheckCsvColumns {
  bool abs = false;
  bool cos_sim = false;
  bool kl = false;
};

// Header of the report: op_id, op_name, op_param, tensor_path, out_tensor_id,
// precision_standard, precision_result, rel_precision_rate(%), max_rel_error, [abs...], fail_reason.
std::string opcheck_csv_header(const OpcheckCsvColumns& columns);

// Writes {dir}/opcheck_result_{UTC YYYYMMDDHHMMSS}.csv from `rows` in their order (never
// overwrites: a _1, _2 suffix when the name exists). Rates and errors as "%.16f", cosine "%.10f",
// KL "%.16f", unavailable values "NaN" (msit's formats); precision_result PASS, FAILED or
// NOT_SUPPORTED.
std::filesystem::path export_opcheck_csv(const std::vector<OpcheckResultRow>& rows, const OpcheckCsvColumns& columns,
                                         const std::filesystem::path& dir);

}  // namespace aitdb::query
