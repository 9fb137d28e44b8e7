// The op graph of a GE dump (docs/formats_graph_mode.md §4): the graph text torchair writes beside
// the dumps becomes graph_ops rows, and every dumped GE op learns the graph ops it was built from
// (its constituents: one for a plain op, several for a fused one), its place in the graph, and so
// its execution order. The GE matchers (compare/src/matchers/ge_*_matcher.sql) join on these.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <unordered_map>

#include "aitdb/ingest/ge_graph_text.h"
#include "aitdb/schema/errors.h"
#include "op_graph_builder.h"

namespace aitdb::ingest {
namespace {

// One graph text file: op name -> (graph_ops id, position in graph order).
struct GraphFile {
  std::string rel_path;
  std::optional<std::int64_t> rank;
  std::int64_t graph_id = 0;
  std::unordered_map<std::string, std::pair<std::int64_t, std::int64_t>> ops;
  GeOpNameIndex names;
};

// "split-aten.split.Tensor.OUTPUT.1" -> ["split-aten.split.Tensor", 1]; null when it is not that form.
nlohmann::json fx_output_ref(const std::string& fx_tensor_name) {
  const auto at = fx_tensor_name.rfind(".OUTPUT.");
  if (at == std::string::npos || at == 0) return nullptr;
  const auto index = to_int(fx_tensor_name.substr(at + 8));
  if (!index) return nullptr;
  return nlohmann::json::array({fx_tensor_name.substr(0, at), *index});
}

GraphOpRow graph_op_row(const GeGraphOp& op, const GraphFile& file, std::optional<std::int64_t> pid,
                        std::int64_t position) {
  GraphOpRow row;
  row.pid = pid;
  row.graph = file.rel_path;
  row.graph_index = file.graph_id;
  row.id_path = op.name;
  row.op_name = op.name;
  if (!op.type.empty()) row.op_type = op.type;
  nlohmann::json param = {{"position", position}};
  if (file.rank) param["rank"] = *file.rank;
  row.param = param.dump();
  // Data inputs only: a control edge (index -1) or an absent optional input ("") has no tensor
  // in the dump, so it takes no place among the dumped inputs.
  nlohmann::json ins = nlohmann::json::array();
  for (const auto& in : op.inputs) {
    if (in.producer.empty() || (in.index && *in.index < 0)) continue;
    ins.push_back(in.producer);
  }
  row.in_tensors = ins.dump();
  nlohmann::json outs = nlohmann::json::array();
  for (const auto& d : op.output_descs) outs.push_back(d.fx_tensor_name ? fx_output_ref(*d.fx_tensor_name) : nullptr);
  row.out_tensors = outs.dump();
  return row;
}

// The rank a GE rank folder names: the digits after its last "rank" ('worldsize2_global_rank1' -> 1).
std::optional<std::int64_t> rank_number(const std::string& rank_key) {
  const auto at = rank_key.rfind("rank");
  if (at == std::string::npos) return std::nullopt;
  return to_int(rank_key.substr(at + 4));
}

}  // namespace

void GeOpNameIndex::add(const std::string& name) {
  if (name.empty()) return;
  if (names_.insert(name).second && std::find(lengths_.begin(), lengths_.end(), name.size()) == lengths_.end()) {
    lengths_.insert(std::upper_bound(lengths_.begin(), lengths_.end(), name.size(), std::greater<>()), name.size());
  }
}

std::vector<std::string> GeOpNameIndex::decompose(const std::string& dump_op_name) const {
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos < dump_op_name.size()) {
    const std::size_t left = dump_op_name.size() - pos;
    bool found = false;
    // Only lengths some graph op has are tried, longest first: cost is name length x distinct lengths.
    for (const std::size_t len : lengths_) {
      if (len > left) continue;
      std::string candidate = dump_op_name.substr(pos, len);
      if (names_.contains(candidate)) {
        parts.push_back(std::move(candidate));
        pos += len;
        found = true;
        break;
      }
    }
    if (!found) return {};
  }
  return parts;
}

std::vector<GeNodeLink> link_ge_nodes(IngestTransaction& tx, OpGraphReport& rep) {
  static const std::regex kRank(R"(rank_(\d+)_)");
  static const std::regex kPid(R"(pid_(\d+))");
  static const std::regex kFirstInt(R"((\d+))");
  std::vector<GraphFile> files;
  std::vector<std::pair<std::string, std::string>> texts;
  tx.run_sql(
      "SELECT rel_path, content FROM files WHERE run_id = ?1 AND content IS NOT NULL AND "
      "(rel_path GLOB 'dynamo_original_graph_*.txt' OR rel_path GLOB '*/dynamo_original_graph_*.txt')",
      {tx.run_id()}, [&](const std::vector<SqlValue>& row) {
        texts.emplace_back(std::get<std::string>(row[0]), std::get<std::string>(row[1]));
      });
  for (const auto& [rel_path, content] : texts) {
    const std::string base = rel_path.substr(rel_path.rfind('/') == std::string::npos ? 0 : rel_path.rfind('/') + 1);
    GraphFile f;
    f.rel_path = rel_path;
    std::smatch m;
    if (std::regex_search(base, m, kRank)) f.rank = to_int(m[1].str());
    std::optional<std::int64_t> pid;
    if (std::regex_search(base, m, kPid)) pid = to_int(m[1].str());
    // msit orders graph files by the first integer of the name: the graph id.
    if (std::regex_search(base, m, kFirstInt)) f.graph_id = to_int(m[1].str()).value_or(0);
    GeGraph graph;
    try {
      graph = parse_ge_graph_text(content, rel_path);
    } catch (const Error& e) {
      rep.errors.emplace_back(rel_path, e.reason());
      continue;
    }
    for (std::size_t i = 0; i < graph.ops.size(); ++i) {
      const auto& op = graph.ops[i];
      if (f.ops.contains(op.name)) continue;  // a repeated name: the first one stands
      const auto position = static_cast<std::int64_t>(i);
      const std::int64_t id = tx.add_graph_op(graph_op_row(op, f, pid, position));
      f.ops.emplace(op.name, std::make_pair(id, position));
      f.names.add(op.name);
    }
    files.push_back(std::move(f));
  }
  std::stable_sort(files.begin(), files.end(), [](const GraphFile& a, const GraphFile& b) {
    return std::tie(a.graph_id, a.rel_path) < std::tie(b.graph_id, b.rel_path);
  });

  std::vector<GeNodeLink> links;
  for (const auto& [rank, folder] : tx.op_node_groups("op")) {
    const auto rank_no = rank_number(rank);
    std::vector<const GraphFile*> candidates;
    for (const auto& f : files) {
      if (!rank_no || !f.rank || *f.rank == *rank_no) candidates.push_back(&f);
    }
    for (const auto& n : tx.op_nodes_of("op", rank, folder)) {
      GeNodeLink link;
      link.node_id = n.id;
      for (const GraphFile* f : candidates) {
        auto parts = f->names.decompose(n.id_path);
        if (parts.empty()) continue;
        const auto& first = f->ops.at(parts.front());
        link.graph_op_id = first.first;
        link.constituents = std::move(parts);
        // msit walks the dump in graph order: a fused op stands where its first part stands.
        link.order_key = fixed(f->graph_id) + "/" + fixed(first.second) + "/" + n.id_path;
        link.position = first.second;
        break;
      }
      // Ops the graph does not know come first, as in msit.
      if (!link.graph_op_id) link.order_key = "!" + n.id_path;
      tx.link_op_node(n.id, std::nullopt, link.order_key, 1, std::nullopt, link.position);
      links.push_back(std::move(link));
    }
  }
  return links;
}

void apply_ge_links(IngestTransaction& tx, const std::vector<GeNodeLink>& links) {
  // Staged through a keyed TEMP table: an UPDATE joined to json_each directly would scan the
  // batch once per node.
  tx.run_sql("DROP TABLE IF EXISTS temp.ge_links", {});
  tx.run_sql("CREATE TEMP TABLE ge_links (id INTEGER PRIMARY KEY, names TEXT NOT NULL, graph_op_id INTEGER NOT NULL)",
             {});
  constexpr std::size_t kBatch = 20000;
  for (std::size_t at = 0; at < links.size(); at += kBatch) {
    nlohmann::json batch = nlohmann::json::array();
    for (std::size_t i = at; i < std::min(links.size(), at + kBatch); ++i) {
      const auto& l = links[i];
      if (!l.graph_op_id) continue;
      batch.push_back(nlohmann::json::array({l.node_id, nlohmann::json(l.constituents).dump(), *l.graph_op_id}));
    }
    tx.run_sql(
        "INSERT INTO temp.ge_links SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), "
        "json_extract(value, '$[2]') FROM json_each(?1)",
        {batch.dump()});
  }
  tx.run_sql(
      "UPDATE op_nodes SET names = l.names, graph_op_id = l.graph_op_id FROM temp.ge_links AS l "
      "WHERE op_nodes.id = l.id",
      {});
  // A GE op the graph does not know keeps no graph op (finalising may have matched its name in
  // another rank's graph).
  tx.run_sql(
      "UPDATE op_nodes SET graph_op_id = NULL WHERE run_id = ?1 AND kind = 'op' AND graph_op_id IS NOT NULL "
      "AND id NOT IN (SELECT id FROM temp.ge_links)",
      {tx.run_id()});
  tx.run_sql("DROP TABLE temp.ge_links", {});
}

}  // namespace aitdb::ingest
