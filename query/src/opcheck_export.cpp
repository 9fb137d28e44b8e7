#include "aitdb/query/opcheck_export.h"

#include <cmath>
#include <cstdio>

#include "aitdb/query/report_export.h"

namespace aitdb::query {
namespace {

std::string fixed(const std::optional<double>& v, int decimals) {
  if (!v || std::isnan(*v)) return "NaN";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, *v);
  return buf;
}

std::string result_text(const std::string& status) {
  if (status == "pass") return "PASS";
  if (status == "not_supported") return "NOT_SUPPORTED";
  return "FAILED";
}

}  // namespace

std::string opcheck_csv_header(const OpcheckCsvColumns& c) {
  std::string h =
      "op_id,op_name,op_param,tensor_path,out_tensor_id,precision_standard,precision_result,rel_precision_rate(%),"
      "max_rel_error";
  if (c.abs) h += ",abs_precision_rate(%),max_abs_error";
  if (c.cos_sim) h += ",cosine_similarity";
  if (c.kl) h += ",kl_divergence";
  return h + ",fail_reason";
}

std::filesystem::path export_opcheck_csv(const std::vector<OpcheckResultRow>& rows, const OpcheckCsvColumns& c,
                                         const std::filesystem::path& dir) {
  std::string out = opcheck_csv_header(c) + "\n";
  for (const auto& r : rows) {
    std::string line = report_cell(r.op_id) + "," + report_cell(r.op_name) + "," + report_cell(r.op_param) + "," +
                       report_cell(r.tensor_path.value_or("")) + "," +
                       (r.out_tensor_id ? std::to_string(*r.out_tensor_id) : std::string("NaN")) + "," +
                       report_cell(r.precision_standard.value_or("NaN")) + "," + result_text(r.status) + "," +
                       fixed(r.rel_precision_rate, 16) + "," + fixed(r.max_rel_error, 16);
    if (c.abs) line += "," + fixed(r.abs_precision_rate, 16) + "," + fixed(r.max_abs_error, 16);
    if (c.cos_sim) line += "," + fixed(r.cosine_similarity, 10);
    if (c.kl) line += "," + fixed(r.kl_divergence, 16);
    out += line + "," + report_cell(r.fail_reason) + "\n";
  }
  return write_new_report_file(dir, "opcheck_result_" + report_timestamp(true), out);
}

}  // namespace aitdb::query
