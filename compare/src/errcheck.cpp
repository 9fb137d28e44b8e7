#include "aitdb/compare/errcheck.h"

#include <cstring>
#include <filesystem>
#include <limits>
#include <map>

#include "aitdb/schema/comparison_store.h"
#include "aitdb/schema/errors.h"

namespace aitdb::compare {
namespace {

// Largest finite value of the dtypes the NPU saturates to (fp16 65504, bf16 3.3895314e38, fp32
// FLT_MAX): statistics equal to it, or beyond it (inf), are the cue to scan the blob.
std::optional<double> max_finite(DType d) {
  switch (d) {
    case DType::Float16: return 65504.0;
    case DType::BFloat16: return 3.3895313892515355e38;
    case DType::Float32: return static_cast<double>(std::numeric_limits<float>::max());
    default: return std::nullopt;
  }
}

template <typename Bits>
std::int64_t count_magnitude(std::span<const std::byte> bytes, Bits magnitude_mask, Bits max_finite_bits) {
  std::int64_t n = 0;
  const std::size_t count = bytes.size() / sizeof(Bits);
  for (std::size_t i = 0; i < count; ++i) {
    Bits b;
    std::memcpy(&b, bytes.data() + i * sizeof(Bits), sizeof(Bits));
    n += (b & magnitude_mask) == max_finite_bits ? 1 : 0;
  }
  return n;
}

struct ScannedTensor {
  std::int64_t tensor_id = 0;
  std::optional<std::int64_t> node_id;
  std::string rank_key;
  std::string io;
  std::int64_t nan_count = 0;
  std::int64_t inf_count = 0;
  std::int64_t saturated = 0;
  [[nodiscard]] bool overflowed() const { return nan_count + inf_count + saturated > 0; }
};

std::string text_of(const SqlValue& v) {
  return std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : std::string();
}
std::int64_t int_of(const SqlValue& v) {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return *i;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<std::int64_t>(*d);
  return 0;
}
std::optional<double> real_of(const SqlValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* i = std::get_if<std::int64_t>(&v)) return static_cast<double>(*i);
  return std::nullopt;
}

// The events of one msit_overflow_res_{pid}.txt. The probe rewrites the file from offset 0 on
// every hit without truncating it, so a line may be the tail of a longer earlier one: only whole
// event lines count, the rest become warnings.
void read_msit_overflow_file(Store& store, const RunInfo& run, const std::string& rel_path, const std::string& text,
                             std::vector<ErrcheckResultRow>& rows, std::vector<std::string>& warnings) {
  static constexpr std::string_view kPrefix = "Overflow detected! Operator name: ";
  const std::string file = std::filesystem::path(rel_path).filename().string();
  const std::string pid = file.substr(std::string("msit_overflow_res_").size(),
                                      file.size() - std::string("msit_overflow_res_").size() - std::string(".txt").size());
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    std::string line = text.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text.size() : nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line.rfind(kPrefix, 0) != 0) {
      warnings.push_back(rel_path + ":" + std::to_string(line_no) + ": not an overflow event line");
      continue;
    }
    ErrcheckResultRow row;
    row.op_name = line.substr(kPrefix.size());
    // "ElewiseOperation_1_2:AddF32Tactic" -> ids "1_2"
    const std::string op = row.op_name->substr(0, row.op_name->find(':'));
    const auto cut = op.find('_');
    if (cut != std::string::npos) {
      store.execute(
          "SELECT n.id FROM op_nodes n JOIN run_ranks rr ON rr.run_id = n.run_id AND rr.rank_key = n.rank_key "
          "WHERE n.run_id = ?1 AND CAST(rr.pid AS TEXT) = ?2 AND n.id_path = ?3 AND n.kind = 'op' "
          "ORDER BY coalesce(n.token, -1), n.exec_order LIMIT 1",
          {SqlValue{run.id}, SqlValue{pid}, SqlValue{op.substr(cut + 1)}}, [](const auto&) {},
          [&](const std::vector<SqlValue>& r) { row.op_node_id = int_of(r[0]); });
    }
    rows.push_back(std::move(row));
  }
}

}  // namespace

std::int64_t count_saturated(DType dtype, std::span<const std::byte> bytes) {
  switch (dtype) {
    case DType::Float16: return count_magnitude<std::uint16_t>(bytes, 0x7fff, 0x7bff);
    case DType::BFloat16: return count_magnitude<std::uint16_t>(bytes, 0x7fff, 0x7f7f);
    case DType::Float32: return count_magnitude<std::uint32_t>(bytes, 0x7fffffffU, 0x7f7fffffU);
    default: return 0;
  }
}

ErrcheckSummary run_errcheck(Store& store, const std::string& run_name) {
  const auto run = store.find_run(run_name);
  if (!run) throw NotFoundError(run_name, "no such run");
  ErrcheckSummary sum;
  sum.run_id = run->id;
  std::vector<ScannedTensor> scanned;  // in execution order
  ByteBuffer bytes;                    // reused for every blob read
  store.execute(
      R"sql(SELECT t.id, t.op_node_id, coalesce(n.rank_key, t.rank_key, ''), coalesce(t.io, ''), t.dtype,
                   coalesce(t.nan_count, 0), coalesce(t.inf_count, 0), t.min, t.max, t.blob_key,
                   ?2 || ':' || coalesce(f.rel_path, t.id)
            FROM tensors t
            LEFT JOIN op_nodes n ON n.id = t.op_node_id
            LEFT JOIN files f ON f.id = t.file_id
            WHERE t.run_id = ?1 AND (t.nan_count IS NOT NULL OR t.blob_key IS NOT NULL)
            ORDER BY coalesce(n.rank_key, t.rank_key, ''), coalesce(n.token, -1), n.folder, n.exec_order, t.id)sql",
      {SqlValue{run->id}, SqlValue{run->name}}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) {
        ScannedTensor t;
        t.tensor_id = int_of(r[0]);
        if (std::holds_alternative<std::int64_t>(r[1])) t.node_id = int_of(r[1]);
        t.rank_key = text_of(r[2]);
        t.io = text_of(r[3]);
        t.nan_count = int_of(r[5]);
        t.inf_count = int_of(r[6]);
        const auto dtype = dtype_from_name(text_of(r[4]));
        const auto limit = dtype ? max_finite(*dtype) : std::nullopt;
        const auto lo = real_of(r[7]);
        const auto hi = real_of(r[8]);
        const auto* key = std::get_if<std::vector<std::uint8_t>>(&r[9]);
        // min/max cover every non-NaN value, so only a tensor reaching the limit can hold
        // saturated values; only those are read back.
        if (limit && key != nullptr && ((hi && *hi >= *limit) || (lo && *lo <= -*limit))) {
          store.read_blob_into(BlobKey::from_bytes(*key), text_of(r[10]), bytes);
          t.saturated = count_saturated(*dtype, {bytes.data(), bytes.size()});
        }
        ++sum.tensors_checked;
        scanned.push_back(std::move(t));
      });

  // Per op node: do its inputs and outputs overflow? Nodes are met in execution order per rank.
  struct NodeState {
    std::string rank_key;
    bool inputs_overflowed = false;
    bool outputs_overflowed = false;
  };
  std::vector<std::int64_t> node_order;
  std::map<std::int64_t, NodeState> nodes;
  for (const auto& t : scanned) {
    if (!t.node_id) continue;
    auto [it, fresh] = nodes.try_emplace(*t.node_id);
    if (fresh) {
      it->second.rank_key = t.rank_key;
      node_order.push_back(*t.node_id);
    }
    (t.io == "out" ? it->second.outputs_overflowed : it->second.inputs_overflowed) |= t.overflowed();
  }
  std::map<std::string, std::int64_t> first_by_rank;
  for (const auto id : node_order) {
    const NodeState& n = nodes.at(id);
    if (n.outputs_overflowed && !n.inputs_overflowed && !first_by_rank.contains(n.rank_key)) first_by_rank[n.rank_key] = id;
  }
  std::vector<ErrcheckResultRow> rows;
  for (const auto& t : scanned) {
    if (!t.overflowed()) continue;
    ErrcheckResultRow row;
    row.tensor_id = t.tensor_id;
    row.op_node_id = t.node_id;
    row.nan_count = t.nan_count;
    row.inf_count = t.inf_count;
    row.saturated_count = t.saturated;
    const auto first = first_by_rank.find(t.rank_key);
    row.first_overflow = t.io == "out" && t.node_id && first != first_by_rank.end() && first->second == *t.node_id;
    rows.push_back(std::move(row));
  }
  sum.tensors_overflowed = rows.size();
  sum.first_ops = first_by_rank.size();
  store.write_errcheck_results(run->id, "scan", rows);

  std::vector<ErrcheckResultRow> events;
  store.execute("SELECT rel_path, content FROM files WHERE run_id = ?1 AND content IS NOT NULL "
                "AND (rel_path GLOB 'msit_overflow_res_*.txt' OR rel_path GLOB '*/msit_overflow_res_*.txt') ORDER BY rel_path",
                {SqlValue{run->id}}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) {
                  read_msit_overflow_file(store, *run, text_of(r[0]), text_of(r[1]), events, sum.warnings);
                });
  sum.msit_events = events.size();
  store.write_errcheck_results(run->id, "msit_overflow_res", events);
  return sum;
}

}  // namespace aitdb::compare
