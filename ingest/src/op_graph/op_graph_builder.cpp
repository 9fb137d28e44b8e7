#include "op_graph_builder.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <unordered_map>

#include "aitdb/schema/errors.h"

namespace aitdb::ingest {
namespace sql {
extern const char* const finalize_op_graph;
}

std::optional<std::int64_t> to_int(const std::string& s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  std::int64_t v = 0;
  std::size_t i = s[0] == '-' ? 1 : 0;
  if (i == s.size()) return std::nullopt;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return s[0] == '-' ? -v : v;
}

std::string fixed(std::int64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(v < 0 ? 0 : v));
  return buf;
}

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const auto at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// '{device}_{pid}' (ATB: '0_7624'), '{kind}{n}_{pid}' (torch: 'npu0_7624', 'cpu_7624').
RankRow parse_rank(const std::string& key) {
  RankRow r;
  r.rank_key = key;
  const auto us = key.rfind('_');
  if (us == std::string::npos) return r;
  r.pid = to_int(key.substr(us + 1));
  const std::string dev = key.substr(0, key.find('_'));
  std::size_t d = dev.size();
  while (d > 0 && std::isdigit(static_cast<unsigned char>(dev[d - 1])) != 0) --d;
  if (d > 0 && dev[0] != '-') r.device_kind = dev.substr(0, d);
  if (d < dev.size()) r.device_id = to_int(dev.substr(d == 0 ? 0 : d));
  if (d == 0 && dev.starts_with('-')) r.device_id = to_int(dev);
  return r;
}

struct SideFile {
  std::string rel_path;
  std::string content;
};

std::vector<SideFile> side_files(IngestTransaction& tx, const std::string& glob_where) {
  std::vector<SideFile> out;
  tx.run_sql("SELECT rel_path, content FROM files WHERE run_id = ?1 AND content IS NOT NULL AND (" + glob_where + ")",
             {tx.run_id()}, [&](const std::vector<SqlValue>& row) {
               out.push_back({std::get<std::string>(row[0]), std::get<std::string>(row[1])});
             });
  return out;
}

void add_ranks(IngestTransaction& tx) {
  std::vector<RankRow> ranks;
  tx.run_sql("SELECT DISTINCT rank_key FROM op_nodes WHERE run_id = ?1", {tx.run_id()},
             [&](const std::vector<SqlValue>& row) { ranks.push_back(parse_rank(std::get<std::string>(row[0]))); });
  std::sort(ranks.begin(), ranks.end(), [](const RankRow& a, const RankRow& b) {
    return std::tie(a.device_id, a.pid, a.rank_key) < std::tie(b.device_id, b.pid, b.rank_key);
  });
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    ranks[i].rank_index = static_cast<std::int64_t>(i);
    tx.add_rank(ranks[i]);
  }
}

// model/{pid}/*.json and layer/{pid}/*.json (also info/{model,layer}/{device}_{pid}/ of the newest
// probe) anywhere in the run.
void add_topology(IngestTransaction& tx, OpGraphReport& rep) {
  static const std::regex kTopo(R"((?:^|/)(model|layer)/(?:-?\d+_)?(\d+)/([^/]+)\.json$)");
  struct Doc {
    SideFile file;
    bool is_model;
  };
  std::map<std::int64_t, std::vector<Doc>> by_pid;
  for (auto& f : side_files(tx, "rel_path GLOB '*model/*.json' OR rel_path GLOB '*layer/*.json'")) {
    std::smatch m;
    if (!std::regex_search(f.rel_path, m, kTopo)) continue;
    const auto pid = to_int(m[2].str());
    if (!pid) continue;
    const bool is_model = m[1] == "model";
    by_pid[*pid].push_back(Doc{std::move(f), is_model});
  }
  for (auto& [pid_key, docs] : by_pid) {
    const std::int64_t pid = pid_key;  // a plain variable: lambdas below capture it
    // A Transdata op created before the model shifts the global op ids by one; the probe's model
    // JSON numbering does not know it.
    const bool transdata_first = std::any_of(docs.begin(), docs.end(), [](const Doc& d) {
      return !d.is_model && d.file.rel_path.ends_with("/TransdataOperation_0.json");
    });
    std::vector<TopologyGraph> models;
    std::vector<TopologyGraph> layers;
    for (const auto& d : docs) {
      try {
        auto g = parse_topology(d.file.rel_path, d.file.content, d.is_model, d.is_model && transdata_first ? 1 : 0);
        (d.is_model ? models : layers).push_back(std::move(g));
      } catch (const Error& e) {
        rep.errors.emplace_back(d.file.rel_path, e.reason());
      }
    }
    std::stable_sort(models.begin(), models.end(),
                     [](const TopologyGraph& a, const TopologyGraph& b) { return a.start_id < b.start_id; });
    auto store = [&](TopologyGraph& g, std::int64_t index) {
      std::vector<std::int64_t> ids;
      ids.reserve(g.ops.size());
      for (auto& op : g.ops) {
        op.pid = pid;
        op.graph_index = index;
        ids.push_back(tx.add_graph_op(op));
      }
      for (const auto& e : g.edges) tx.add_op_edge(ids[e.src], ids[e.dst], e.tensor);
    };
    for (std::size_t i = 0; i < models.size(); ++i) store(models[i], static_cast<std::int64_t>(i));
    // Layer JSONs only fill in what no model JSON describes.
    for (std::size_t i = 0; i < layers.size(); ++i) store(layers[i], 1000 + static_cast<std::int64_t>(i));
    const bool remap = models.size() > 1;
    tx.run_sql("UPDATE run_ranks SET model_graphs = ?2, warmup_remap = ?3 WHERE run_id = ?1 AND pid = ?4",
               {tx.run_id(), static_cast<std::int64_t>(models.size()), std::int64_t{remap ? 1 : 0}, pid});
    if (remap) {
      tx.run_sql("SELECT rank_key FROM run_ranks WHERE run_id = ?1 AND pid = ?2", {tx.run_id(), pid},
                 [&](const std::vector<SqlValue>& row) {
                   rep.notes.push_back("rank " + std::get<std::string>(row[0]) + ": " + std::to_string(models.size()) +
                                       " model graphs (prefill + decode): folder 0 is the warm-up and is not "
                                       "compared, folder 1 holds token 0 (prefill ops) and token 1 (decode ops)");
                 });
    }
  }
}

// ATB: parents from id paths; directories that hold only child directories become nodes too.
void link_atb_nodes(IngestTransaction& tx) {
  for (const auto& [rank, folder] : tx.op_node_groups("op")) {
    struct Node {
      std::int64_t id;
      std::optional<std::string> type;
    };
    std::unordered_map<std::string, Node> by_path;
    const auto nodes = tx.op_nodes_of("op", rank, folder);
    for (const auto& n : nodes) by_path.emplace(n.id_path, Node{n.id, std::nullopt});
    for (const auto& n : nodes) {
      const auto ids = split(n.id_path, '_');
      const auto names = n.names ? nlohmann::json::parse(*n.names, nullptr, false) : nlohmann::json();
      std::string path;
      for (std::size_t k = 0; k + 1 < ids.size(); ++k) {
        path += (k == 0 ? "" : "_") + ids[k];
        if (by_path.contains(path)) continue;
        OpNodeRow anc;
        anc.kind = "op";
        anc.rank_key = rank;
        anc.folder = folder;
        anc.id_path = path;
        if (names.is_array() && k < names.size() && names[k].is_string()) {
          anc.name = names[k].get<std::string>();
          anc.type = anc.name;
          nlohmann::json prefix(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(k + 1));
          anc.names = prefix.dump();
        }
        anc.depth = static_cast<std::int64_t>(k + 1);
        anc.sibling_pos = to_int(ids[k]);
        by_path.emplace(path, Node{tx.add_op_node(anc), std::nullopt});
      }
    }
    for (const auto& [path, node] : by_path) {
      const auto cut = path.rfind('_');
      std::optional<std::int64_t> parent;
      if (cut != std::string::npos) parent = by_path.at(path.substr(0, cut)).id;
      const auto depth = static_cast<std::int64_t>(std::count(path.begin(), path.end(), '_') + 1);
      tx.link_op_node(node.id, parent, atb_order_key(path), depth, std::nullopt,
                      to_int(cut == std::string::npos ? path : path.substr(cut + 1)));
    }
  }
}

// The rank folder a side file belongs to: the component before `skip` trailing ones ("" when the
// rank folder itself was the ingest root).
std::string rank_of(const std::string& rel_path, std::size_t skip) {
  const auto parts = split(rel_path, '/');
  return parts.size() > skip ? parts[parts.size() - 1 - skip] : "";
}

// Torch: parents, class names and order from model_tree.json; the explicit sequence written by
// aitdb's hooks (aitdb_exec_order.txt) decides the order when present.
void link_torch_modules(IngestTransaction& tx, OpGraphReport& rep) {
  std::map<std::string, std::unordered_map<std::string, ModuleTreeNode>> trees;  // by rank
  for (const auto& f : side_files(tx, "rel_path = 'model_tree.json' OR rel_path GLOB '*/model_tree.json'")) {
    try {
      auto& tree = trees[rank_of(f.rel_path, 1)];
      for (auto& n : parse_module_tree(f.rel_path, f.content)) tree.emplace(n.name, std::move(n));
    } catch (const Error& e) {
      rep.errors.emplace_back(f.rel_path, e.reason());
    }
  }
  std::map<std::pair<std::string, std::string>, std::unordered_map<std::string, std::int64_t>> sequences;
  for (const auto& f : side_files(tx, "rel_path GLOB '*aitdb_exec_order.txt'")) {
    const auto parts = split(f.rel_path, '/');
    if (parts.size() < 2) continue;
    auto& seq = sequences[{rank_of(f.rel_path, 2), parts[parts.size() - 2]}];
    std::int64_t line_no = 0;
    for (const auto& line : split(f.content, '\n')) {
      if (!line.empty()) seq[line] = line_no++;  // a module run twice: its files are from the last call
    }
  }
  for (const auto& [rank, folder] : tx.op_node_groups("module")) {
    const auto* tree = trees.contains(rank) ? &trees.at(rank) : (trees.contains("") ? &trees.at("") : nullptr);
    const std::unordered_map<std::string, std::int64_t>* seq = nullptr;
    if (auto it = sequences.find({rank, folder}); it != sequences.end()) {
      seq = &it->second;
    } else if (auto it2 = sequences.find({"", folder}); it2 != sequences.end()) {
      seq = &it2->second;
    }
    std::unordered_map<std::string, std::int64_t> ids;
    for (const auto& n : tx.op_nodes_of("module", rank, folder)) ids.emplace(n.id_path, n.id);
    auto parent_of = [&](const std::string& name) -> std::string {
      if (tree != nullptr) {
        if (auto it = tree->find(name); it != tree->end()) return it->second.parent;
      }
      const auto dot = name.rfind('.');
      return dot == std::string::npos ? "" : name.substr(0, dot);
    };
    // Ancestors that were not dumped still belong to the graph.
    std::vector<std::string> pending;
    for (const auto& [name, id] : ids) pending.push_back(name);
    for (std::size_t i = 0; i < pending.size(); ++i) {
      const std::string parent = parent_of(pending[i]);
      if (parent.empty() || ids.contains(parent)) continue;
      ids.emplace(parent, tx.add_op_node(OpNodeRow::of("module", rank, folder, parent)));
      pending.push_back(parent);
    }
    for (const auto& [name, id] : ids) {
      const ModuleTreeNode* tn = nullptr;
      if (tree != nullptr) {
        if (auto it = tree->find(name); it != tree->end()) tn = &it->second;
      }
      std::string key;
      if (seq != nullptr) {
        const auto it = seq->find(name);
        key = it != seq->end() ? fixed(it->second)
                               : "~" + (tn != nullptr ? fixed(tn->post_order) : dotted_order_key(name));
      } else {
        key = tn != nullptr ? fixed(tn->post_order) : "~" + dotted_order_key(name);
      }
      const std::string parent = parent_of(name);
      std::int64_t depth = 1;
      for (std::string p = parent; !p.empty(); p = parent_of(p)) {
        if (++depth > 4096) break;  // a cyclic tree file cannot loop us
      }
      tx.link_op_node(id, parent.empty() ? std::nullopt : std::optional<std::int64_t>(ids.at(parent)), key, depth,
                      tn != nullptr && !tn->type.empty() ? std::optional<std::string>(tn->type) : std::nullopt,
                      tn != nullptr ? std::optional<std::int64_t>(tn->sibling_pos) : std::nullopt);
    }
  }
}

}  // namespace

std::string atb_order_key(const std::string& id_path) {
  std::string key;
  for (const auto& part : split(id_path, '_')) {
    const auto v = to_int(part);
    key += (v ? fixed(*v) : part) + "/";
  }
  return key + "~";
}

std::string dotted_order_key(const std::string& name) {
  std::string key;
  for (const auto& part : split(name, '.')) {
    const auto v = to_int(part);
    key += (v && *v >= 0 ? fixed(*v) : part) + "/";
  }
  return key + "~";
}

OpGraphReport build_op_graph(IngestTransaction& tx) {
  OpGraphReport rep;
  add_ranks(tx);
  std::string flavour;
  tx.run_sql("SELECT flavour FROM runs WHERE id = ?1", {tx.run_id()},
             [&](const std::vector<SqlValue>& row) { flavour = std::get<std::string>(row[0]); });
  // GE op names are flat (underscores in them are no id path), and their order is the graph's.
  std::vector<GeNodeLink> ge_links;
  if (flavour == "ge_tree") {
    ge_links = link_ge_nodes(tx, rep);
  } else {
    add_topology(tx, rep);
    link_atb_nodes(tx);
  }
  link_torch_modules(tx, rep);
  tx.run_sql(sql::finalize_op_graph, {tx.run_id()});
  if (!ge_links.empty()) apply_ge_links(tx, ge_links);
  add_probe_side_files(tx, rep);
  return rep;
}

}  // namespace aitdb::ingest
