#include "aitdb/query/sql_functions.h"

#include "aitdb/compare/compare_runs.h"
#include "aitdb/compare/metrics.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/stats.h"

namespace aitdb::query {
namespace {

// The tensor description behind a blob key (its dtype lives on the tensors rows using it).
std::optional<PairTask::Side> side_for(Store& store, const SqlValue& v) {
  if (!std::holds_alternative<std::vector<std::uint8_t>>(v)) return std::nullopt;
  const auto& bytes = std::get<std::vector<std::uint8_t>>(v);
  if (bytes.size() != 16) throw UsageError("argument is not a blob key (16 bytes)");
  PairTask::Side s;
  s.blob_key = BlobKey::from_bytes(bytes);
  store.execute("SELECT id, dtype, numel FROM tensors WHERE blob_key = ?1 AND dtype IS NOT NULL LIMIT 1", {v},
                [](const auto&) {}, [&](const std::vector<SqlValue>& r) {
                  s.tensor_id = std::get<std::int64_t>(r[0]);
                  s.dtype = dtype_from_name(std::get<std::string>(r[1]));
                  s.numel = std::get<std::int64_t>(r[2]);
                });
  if (!s.dtype) throw UsageError("blob " + s.blob_key->hex() + " belongs to no stored tensor");
  s.describe = "blob " + s.blob_key->hex();
  return s;
}

using Pick = std::optional<double> (*)(const compare::MsitMetrics&);

void add_metric(Store& store, const char* name, Pick pick) {
  store.add_function(name, 2, [&store, pick](const std::vector<SqlValue>& a) -> SqlValue {
    const auto g = side_for(store, a[0]);
    const auto m = side_for(store, a[1]);
    if (!g || !m) return std::monostate{};
    const auto r = compare::compare_values(compare::load_as_float(store, *g), compare::load_as_float(store, *m));
    if (!r.msit) return std::monostate{};
    const auto v = pick(*r.msit);
    return v ? SqlValue{*v} : SqlValue{};
  });
}

}  // namespace

void register_sql_functions(Store& store) {
  add_metric(store, "cos_sim", [](const compare::MsitMetrics& m) -> std::optional<double> { return m.cosine_similarity; });
  add_metric(store, "max_abs_err", [](const compare::MsitMetrics& m) -> std::optional<double> { return m.max_absolute_error; });
  add_metric(store, "max_rel_err", [](const compare::MsitMetrics& m) -> std::optional<double> { return m.max_relative_error; });
  add_metric(store, "mean_rel_err",
             [](const compare::MsitMetrics& m) -> std::optional<double> { return m.mean_relative_error; });
  add_metric(store, "kl_div", [](const compare::MsitMetrics& m) -> std::optional<double> { return m.kl_divergence; });
  store.add_function("tensor_stat", 2, [&store](const std::vector<SqlValue>& a) -> SqlValue {
    const auto s = side_for(store, a[0]);
    if (!s || !std::holds_alternative<std::string>(a[1])) return std::monostate{};
    const std::string& which = std::get<std::string>(a[1]);
    const auto bytes = store.read_blob(*s->blob_key, s->describe);
    const std::size_t n = bytes.size() / dtype_size(*s->dtype);
    const TensorStats st = compute_stats(*s->dtype, bytes.data(), n);
    const auto opt = [](const std::optional<double>& v) { return v ? SqlValue{*v} : SqlValue{}; };
    if (which == "min") return opt(st.min);
    if (which == "max") return opt(st.max);
    if (which == "mean") return opt(st.mean);
    if (which == "std") return opt(st.std);
    if (which == "l2norm") return opt(st.l2norm);
    if (which == "nan_count") return static_cast<std::int64_t>(st.nan_count);
    if (which == "inf_count") return static_cast<std::int64_t>(st.inf_count);
    if (which == "zero_count") return static_cast<std::int64_t>(st.zero_count);
    if (which == "numel") return static_cast<std::int64_t>(n);
    throw UsageError("tensor_stat: unknown statistic '" + which + "'");
  });
}

}  // namespace aitdb::query
