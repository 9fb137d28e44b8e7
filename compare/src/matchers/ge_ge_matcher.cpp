#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const graph_rank_pairs;
extern const char* const ge_ge_matcher;
}  // namespace sql

const Matcher& ge_ge_matcher() {
  static const Matcher m{
      "ge_ge", std::string(sql::graph_rank_pairs) + "\n" + sql::ge_ge_matcher,
      [](Store&, const RunInfo& g, const RunInfo& my) { return g.flavour == "ge_tree" && my.flavour == "ge_tree"; },
      "two torchair GE dumps of one model, e.g. buffer fusion on (my) and off (golden)"};
  return m;
}

}  // namespace aitdb::compare
