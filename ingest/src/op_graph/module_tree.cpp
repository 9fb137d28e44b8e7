// model_tree.json of a torch dump (docs/formats.md, "model_tree.json"): nested {name, type,
// children}; children are listed in the order they first completed during token 0, so a
// post-order walk gives the order in which module outputs came to exist.
#include <nlohmann/json.hpp>

#include "aitdb/schema/errors.h"
#include "op_graph_builder.h"

namespace aitdb::ingest {
namespace {

constexpr int kMaxTreeDepth = 256;

struct TreeWalker {
  const std::string& path;
  std::vector<ModuleTreeNode>& out;

  void walk(const nlohmann::json& node, const std::string& parent, std::int64_t pos, int depth) {
    if (depth > kMaxTreeDepth) throw FormatError(path, "model_tree.json nests deeper than 256 levels");
    if (!node.is_object()) throw FormatError(path, "model_tree.json node is not an object");
    const auto name = node.find("name");
    if (name == node.end() || !name->is_string()) throw FormatError(path, "model_tree.json node without a 'name'");
    const auto type = node.find("type");
    const auto children = node.find("children");
    if (children != node.end() && !children->is_array()) {
      throw FormatError(path, "model_tree.json 'children' of " + name->get<std::string>() + " is not a list");
    }
    if (children != node.end()) {
      std::int64_t k = 0;
      for (const auto& c : *children) walk(c, name->get<std::string>(), k++, depth + 1);
    }
    out.push_back(ModuleTreeNode{name->get<std::string>(),
                                 type != node.end() && type->is_string() ? type->get<std::string>() : "", parent,
                                 pos, static_cast<std::int64_t>(out.size())});
  }
};

}  // namespace

std::vector<ModuleTreeNode> parse_module_tree(const std::string& path, const std::string& json_text) {
  const auto doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) throw FormatError(path, "model_tree.json is not valid JSON");
  std::vector<ModuleTreeNode> out;
  TreeWalker{path, out}.walk(doc, "", 0, 0);
  return out;
}

}  // namespace aitdb::ingest
