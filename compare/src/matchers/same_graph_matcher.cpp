#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const same_graph_matcher;
}

const Matcher& same_graph_matcher() {
  static const Matcher m{"path", sql::same_graph_matcher, [](Store&, const RunInfo& g, const RunInfo& my) {
                           return g.flavour == my.flavour && (g.flavour == "atb_tree" || g.flavour == "torch_tree" ||
                                                              g.flavour == "files");
                         },
                         "two trees of the same flavour (atb_tree, torch_tree) or two loose-file runs"};
  return m;
}

}  // namespace aitdb::compare
