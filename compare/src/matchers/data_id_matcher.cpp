#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const data_id_matcher;
}

const Matcher& data_id_matcher() {
  static const Matcher m{"data_id", sql::data_id_matcher, [](Store& store, const RunInfo& g, const RunInfo&) {
                           // Applies when the golden run carries metadata.json labels.
                           std::int64_t n = 0;
                           store.execute(
                               "SELECT count(*) FROM labels WHERE run_id = ?1", {SqlValue{g.id}}, [](const auto&) {},
                               [&](const std::vector<SqlValue>& r) { n = std::get<std::int64_t>(r[0]); });
                           return n > 0;
                         },
                         "a golden run carrying metadata.json labels (dump_data, aclcmp)"};
  return m;
}

}  // namespace aitdb::compare
