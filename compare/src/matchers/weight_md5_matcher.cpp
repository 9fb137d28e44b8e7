#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const weight_md5_matcher;
}

namespace {

// Golden labels in the weight-MD5 form: data_id is a 32-hex MD5.
bool has_md5_labels(Store& store, const RunInfo& g) {
  std::int64_t n = 0;
  store.execute(
      "SELECT EXISTS (SELECT 1 FROM labels WHERE run_id = ?1 AND length(data_id) = 32 "
      "AND data_id NOT GLOB '*[^0-9a-f]*')",
      {SqlValue{g.id}}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) { n = std::get<std::int64_t>(r[0]); });
  return n != 0;
}

}  // namespace

const Matcher& weight_md5_matcher() {
  static const Matcher m{"weight_md5", sql::weight_md5_matcher,
                         [](Store& store, const RunInfo& g, const RunInfo& my) {
                           return my.flavour == "atb_tree" && has_md5_labels(store, g);
                         },
                         "a weight-MD5 golden (aclcmp/aitdb md5_hooks: metadata.json {token: {md5: [npy]}}) with an "
                         "atb_tree my run holding MD5 placeholders or input tensors",
                         // My inputs dumped as bytes instead of MD5 placeholders: hash them once.
                         [](Store& store, const RunInfo&, const RunInfo& my) { store.cache_input_blob_md5(my.id); }};
  return m;
}

}  // namespace aitdb::compare
