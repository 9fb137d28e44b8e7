#pragma once
// Each matcher is one rule that pairs golden tensors with my tensors, written as an SQL
// INSERT ... SELECT into `pairs` in the .sql file beside its .cpp.
#include <string>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb::compare {

struct Matcher {
  std::string name;  // path | files | data_id
  const char* sql;
  // Whether `auto` picks this matcher for the two runs.
  bool (*applies)(Store& store, const RunInfo& golden, const RunInfo& my);
};

const Matcher& same_graph_matcher();
const Matcher& file_pair_matcher();
const Matcher& data_id_matcher();

}  // namespace aitdb::compare
