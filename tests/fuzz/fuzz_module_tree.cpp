// libFuzzer target: the torch dump's model_tree.json reader. Modules come back in post-order
// (children before their parent), so every parent named is a module returned, and post_order
// counts the rows.
#include <set>
#include <string>

#include "fuzz_support.h"
#include "op_graph/op_graph_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  aitdb::fuzz::run_decoder([&] {
    const auto nodes = aitdb::ingest::parse_module_tree("model_tree.json", text);
    std::set<std::string> names;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i].post_order != static_cast<std::int64_t>(i)) aitdb::fuzz::invariant_broken("post_order is not the row");
      names.insert(nodes[i].name);
    }
    for (const auto& n : nodes) {
      if (!n.parent.empty() && names.count(n.parent) == 0) aitdb::fuzz::invariant_broken("a parent that is no module");
    }
  });
  return 0;
}
