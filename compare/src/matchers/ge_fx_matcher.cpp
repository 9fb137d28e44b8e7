#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const graph_rank_pairs;
extern const char* const ge_fx_matcher;
}  // namespace sql

const Matcher& ge_fx_matcher() {
  static const Matcher m{
      "ge_fx", std::string(sql::graph_rank_pairs) + "\n" + sql::ge_fx_matcher,
      [](Store&, const RunInfo& g, const RunInfo& my) { return g.flavour == "fx_tree" && my.flavour == "ge_tree"; },
      "a torchair GE dump (my) against the FX dump of the same model (golden)"};
  return m;
}

}  // namespace aitdb::compare
