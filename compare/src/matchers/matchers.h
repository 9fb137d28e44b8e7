#pragma once
// Each matcher is one rule that pairs golden tensors with my tensors, written as an SQL
// INSERT ... SELECT into `pairs` in the .sql file beside its .cpp.
#include <string>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb::compare {

struct Matcher {
  std::string name;  // path | files | data_id | atb_torch | weight_md5 | ge_fx | ge_ge
  std::string sql;
  // Whether `auto` picks this matcher for the two runs.
  bool (*applies)(Store& store, const RunInfo& golden, const RunInfo& my);
  // The runs it pairs, for the message when nothing applies.
  const char* pairs_what;
  // Run before the matcher's SQL (outside its transaction), e.g. to cache what the SQL joins on.
  void (*prepare)(Store& store, const RunInfo& golden, const RunInfo& my) = nullptr;
};

const Matcher& same_graph_matcher();
const Matcher& file_pair_matcher();
const Matcher& data_id_matcher();
const Matcher& atb_torch_matcher();
const Matcher& weight_md5_matcher();
const Matcher& ge_fx_matcher();
const Matcher& ge_ge_matcher();

// Reads msit's op_mapping_file.json (FILE, or DIR/op_mapping_file.json) into the JSON object
// {key: [values]} the atb_torch matcher takes (a string value becomes a one-element list).
// Throws NotFoundError when missing, FormatError when keys or values are not [A-Za-z0-9_]*.
std::string read_op_mapping_file(const std::string& file_or_dir);

}  // namespace aitdb::compare
