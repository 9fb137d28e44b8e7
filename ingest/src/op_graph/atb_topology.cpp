// ATB topology JSON (docs/formats.md, "ATB topology JSON"): a model JSON lists the process's
// top-level ops under `nodes`; a layer JSON is one top-level op. Graph nodes nest their children
// under `nodes`, and a child's position in that list is its node id in the dump's directory names.
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "aitdb/schema/errors.h"
#include "op_graph_builder.h"

namespace aitdb::ingest {
namespace {

constexpr int kMaxTopologyDepth = 64;

// Python's json writes NaN / Infinity / -Infinity bare; they carry no structure, so read them as
// null (what msit's loader does too).
std::string without_bare_constants(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    for (const char* word : {"-Infinity", "Infinity", "NaN"}) {
      const std::string_view w(word);
      if (text.compare(i, w.size(), w) == 0) {
        out += "null";
        i += w.size() - 1;
        goto next;
      }
    }
    out += c;
  next:;
  }
  return out;
}

nlohmann::json parse_json(const std::string& path, const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) j = nlohmann::json::parse(without_bare_constants(text), nullptr, false);
  if (j.is_discarded()) throw FormatError(path, "topology JSON is not valid JSON");
  return j;
}

// Integer after the last '_' of an op name ('Prefill_layer_2' -> 2).
std::optional<std::int64_t> trailing_id(const std::string& op_name) {
  const auto us = op_name.rfind('_');
  if (us == std::string::npos || us + 1 >= op_name.size()) return std::nullopt;
  std::int64_t v = 0;
  for (std::size_t i = us + 1; i < op_name.size(); ++i) {
    const char c = op_name[i];
    if (c < '0' || c > '9' || v > (INT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string names_of(const nlohmann::json& node, const char* key) {
  const auto it = node.find(key);
  if (it == node.end() || !it->is_array()) return "[]";
  for (const auto& n : *it) {
    if (!n.is_string()) return "[]";
  }
  return it->dump();
}

class TopologyWalker {
 public:
  TopologyWalker(const std::string& path, TopologyGraph& out) : path_(path), out_(out) {}

  // Adds `node` (and its subtree) with the given id path; returns its index in out_.ops.
  std::size_t add(const nlohmann::json& node, const std::string& id_path, int depth) {
    if (depth > kMaxTopologyDepth) throw FormatError(path_, "topology nests deeper than 64 levels");
    if (!node.is_object()) throw FormatError(path_, "topology node " + id_path + " is not an object");
    GraphOpRow row;
    row.graph = path_;
    row.id_path = id_path;
    const auto name = node.find("opName");
    row.op_name = name != node.end() && name->is_string() ? name->get<std::string>() : id_path;
    const auto type = node.find("opType");
    if (type != node.end() && type->is_string()) row.op_type = type->get<std::string>();
    const auto param = node.find("param");
    if (param != node.end() && (param->is_object() || param->is_array())) row.param = param->dump();
    row.in_tensors = names_of(node, "inTensors");
    row.out_tensors = names_of(node, "outTensors");
    const std::size_t index = out_.ops.size();
    out_.ops.push_back(std::move(row));
    const auto children = node.find("nodes");
    if (children != node.end() && children->is_array()) add_level(*children, id_path + "_", depth + 1);
    return index;
  }

  // Adds the nodes of one graph level and the edges between them: the sibling producing a tensor
  // name feeds every sibling that consumes the same name.
  void add_level(const nlohmann::json& nodes, const std::string& prefix, int depth,
                 const std::function<std::string(const nlohmann::json&, std::size_t)>& id_of = {}) {
    std::vector<std::size_t> level;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::string id = id_of ? id_of(nodes[i], i) : std::to_string(i);
      level.push_back(add(nodes[i], prefix + id, depth));
    }
    std::unordered_map<std::string, std::size_t> producer;
    for (const std::size_t k : level) {
      for (const auto& t : nlohmann::json::parse(out_.ops[k].out_tensors)) producer.emplace(t.get<std::string>(), k);
    }
    for (const std::size_t k : level) {
      for (const auto& t : nlohmann::json::parse(out_.ops[k].in_tensors)) {
        const auto it = producer.find(t.get<std::string>());
        if (it != producer.end() && it->second != k) out_.edges.push_back({it->second, k, t.get<std::string>()});
      }
    }
  }

 private:
  const std::string& path_;
  TopologyGraph& out_;
};

}  // namespace

TopologyGraph parse_topology(const std::string& path, const std::string& json_text, bool is_model,
                             std::int64_t id_shift) {
  const nlohmann::json doc = parse_json(path, json_text);
  if (!doc.is_object()) throw FormatError(path, "topology JSON is not an object");
  TopologyGraph g;
  TopologyWalker walker(path, g);
  auto top_id = [&](const nlohmann::json& node, std::size_t) {
    const auto name = node.is_object() ? node.find("opName") : node.end();
    const auto id = name != node.end() && name->is_string() ? trailing_id(name->get<std::string>()) : std::nullopt;
    if (!id) throw FormatError(path, "top-level topology node has no '<name>_<id>' opName");
    return std::to_string(*id + id_shift);
  };
  if (is_model) {
    const auto nodes = doc.find("nodes");
    if (nodes == doc.end() || !nodes->is_array()) throw FormatError(path, "model topology JSON has no 'nodes' list");
    walker.add_level(*nodes, "", 1, top_id);
  } else {
    walker.add(doc, top_id(doc, 0), 1);
  }
  if (!g.ops.empty()) g.start_id = std::stoll(g.ops.front().id_path.substr(0, g.ops.front().id_path.find('_')));
  return g;
}

}  // namespace aitdb::ingest
