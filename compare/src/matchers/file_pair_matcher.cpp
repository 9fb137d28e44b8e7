#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const file_pair_matcher;
}

namespace {
bool single_file(const RunInfo& r) {
  return r.flavour == "atb_bin" || r.flavour == "npy" || r.flavour == "pth" || r.flavour == "safetensors";
}
}  // namespace

const Matcher& file_pair_matcher() {
  static const Matcher m{"files", sql::file_pair_matcher,
                         [](Store&, const RunInfo& g, const RunInfo& my) { return single_file(g) && single_file(my); },
                         "two single-file runs (.bin, .npy, .pth, .safetensors)"};
  return m;
}

}  // namespace aitdb::compare
