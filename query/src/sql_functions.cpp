#include "aitdb/query/sql_functions.h"

#include <array>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/compare/metrics.h"
#include "aitdb/schema/blob_stream.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/stats.h"

namespace aitdb::query {
namespace {

// Elements per piece when a tensor_stat pass streams a blob (a multiple of kStatsPieceElems, so
// the result equals the statistics stored at ingest).
constexpr std::size_t kStatPieceElems = 16 * kStatsPieceElems;

// The tensor description behind a blob key (its dtype lives on the tensors rows using it; the
// lowest id decides, so the same key always reads the same way).
std::optional<PairTask::Side> side_for(Store& store, const SqlValue& v) {
  if (!std::holds_alternative<std::vector<std::uint8_t>>(v)) return std::nullopt;
  const auto& bytes = std::get<std::vector<std::uint8_t>>(v);
  if (bytes.size() != BlobKey{}.bytes.size()) throw UsageError("argument is not a blob key (16 bytes)");
  PairTask::Side s;
  s.blob_key = BlobKey::from_bytes(bytes);
  store.execute(
      "SELECT id, dtype, numel FROM tensors WHERE blob_key = ?1 AND dtype IS NOT NULL ORDER BY id LIMIT 1", {v},
      [](const auto&) {},
      [&](const std::vector<SqlValue>& r) {
        s.tensor_id = std::get<std::int64_t>(r[0]);
        s.dtype = dtype_from_name(std::get<std::string>(r[1]));
        s.numel = std::holds_alternative<std::int64_t>(r[2]) ? std::get<std::int64_t>(r[2]) : -1;
      });
  if (!s.dtype) throw UsageError("blob " + s.blob_key->hex() + " belongs to no stored tensor");
  s.describe = "blob " + s.blob_key->hex();
  return s;
}

SqlValue optional_value(const std::optional<double>& v) {
  return v ? SqlValue{*v} : SqlValue{};
}

// One msit metric of two stored tensors, streamed from their blobs.
template <double compare::MsitMetrics::*Field>
SqlValue metric(Store& store, const std::vector<SqlValue>& a) {
  const auto g = side_for(store, a[0]);
  const auto m = side_for(store, a[1]);
  if (!g || !m) return std::monostate{};
  const auto r = compare::compare_stored(store, *g, *m);
  if (!r.msit) return std::monostate{};
  return SqlValue{(*r.msit).*Field};
}

// tensor_stat(key, which): the statistics of one stored tensor, computed on a streamed pass.
SqlValue tensor_stat(Store& store, const std::vector<SqlValue>& a) {
  const auto s = side_for(store, a[0]);
  if (!s || !std::holds_alternative<std::string>(a[1])) return std::monostate{};
  const std::string& which = std::get<std::string>(a[1]);
  const std::size_t item = dtype_size(*s->dtype);
  BlobStream stream(store, *s->blob_key, s->describe);
  if (stream.size() % item != 0) {
    throw IntegrityError(s->describe, "holds " + std::to_string(stream.size()) + " bytes, not a whole number of " +
                                          std::string(dtype_name(*s->dtype)) + " values");
  }
  const auto n = static_cast<std::size_t>(stream.size() / item);
  StatsAccumulator acc(*s->dtype);
  for (std::size_t done = 0; done < n;) {
    const std::size_t take = std::min(kStatPieceElems, n - done);
    acc.add(stream.next(take * item).data(), take);
    done += take;
  }
  stream.finish();
  const TensorStats st = acc.result();
  if (which == "min") return optional_value(st.min);
  if (which == "max") return optional_value(st.max);
  if (which == "mean") return optional_value(st.mean);
  if (which == "std") return optional_value(st.std);
  if (which == "l2norm") return optional_value(st.l2norm);
  if (which == "nan_count") return static_cast<std::int64_t>(st.nan_count);
  if (which == "inf_count") return static_cast<std::int64_t>(st.inf_count);
  if (which == "zero_count") return static_cast<std::int64_t>(st.zero_count);
  if (which == "numel") return static_cast<std::int64_t>(n);
  throw UsageError("tensor_stat: unknown statistic '" + which + "'");
}

struct FunctionEntry {
  const char* name;
  int nargs;
  SqlValue (*fn)(Store&, const std::vector<SqlValue>&);
};

// Every function of `aitdb query`. All are deterministic: a blob key names fixed bytes (it is
// their content hash), and the dtype behind it is looked up the same way every time.
constexpr std::array kFunctions{
    FunctionEntry{"cos_sim", 2, &metric<&compare::MsitMetrics::cosine_similarity>},
    FunctionEntry{"max_abs_err", 2, &metric<&compare::MsitMetrics::max_absolute_error>},
    FunctionEntry{"max_rel_err", 2, &metric<&compare::MsitMetrics::max_relative_error>},
    FunctionEntry{"mean_rel_err", 2, &metric<&compare::MsitMetrics::mean_relative_error>},
    FunctionEntry{"kl_div", 2, &metric<&compare::MsitMetrics::kl_divergence>},
    FunctionEntry{"tensor_stat", 2, &tensor_stat},
};

}  // namespace

void register_sql_functions(Store& store) {
  for (const FunctionEntry& f : kFunctions) {
    store.add_function(
        f.name, f.nargs, [&store, fn = f.fn](const std::vector<SqlValue>& a) { return fn(store, a); },
        /*deterministic=*/true);
  }
}

}  // namespace aitdb::query
