// metadata.json files that pair tensors by data_id (docs/readers.md):
//   msit dump_data:   {"<data_id>": {"<token>": ["<golden path>", "<my path>"]}}
//   aclcmp dump_data: {"<data_id>": {"<token>": "<path>" | ["<path>"]}} in golden_tensor/ or acl_tensor/
#include <nlohmann/json.hpp>

#include "aitdb/ingest/layout.h"
#include "aitdb/schema/errors.h"
#include "file_io.h"
#include "metadata_labels.h"

namespace aitdb::ingest {

std::vector<LabelRow> read_metadata_labels(const std::string& path, const std::string& rel_path, const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(path, std::string("metadata.json is not valid JSON: ") + e.what());
  }
  if (!j.is_object()) throw FormatError(path, "metadata.json is not a JSON object of data_id entries");
  // The aclcmp layout says which side a one-path entry belongs to by its directory.
  std::optional<std::string> side;
  if (rel_path.find("golden_tensor/") != std::string::npos || rel_path.find("pta_tensor/") != std::string::npos) side = "golden";
  if (rel_path.find("acl_tensor/") != std::string::npos) side = "acl";
  std::vector<LabelRow> out;
  for (const auto& [data_id, tokens] : j.items()) {
    if (!tokens.is_object()) throw FormatError(path, "metadata.json entry '" + data_id + "' is not an object of tokens");
    for (const auto& [token, v] : tokens.items()) {
      LabelRow l;
      l.data_id = data_id;
      l.token_id = token;
      std::vector<std::string> paths;
      if (v.is_string()) {
        paths.push_back(v.get<std::string>());
      } else if (v.is_array()) {
        for (const auto& p : v) {
          if (!p.is_string()) throw FormatError(path, "metadata.json entry '" + data_id + "' holds a non-string path");
          paths.push_back(p.get<std::string>());
        }
      } else {
        throw FormatError(path, "metadata.json entry '" + data_id + "' token '" + token + "' is not a path or list");
      }
      if (paths.size() >= 2 && !(side == std::optional<std::string>("acl"))) {
        l.golden_path = paths[0];  // msit dump_data: [golden, my]
        l.my_path = paths[1];
      } else if (!paths.empty()) {
        l.side = side;
        if (side == std::optional<std::string>("acl")) {
          l.my_path = paths[0];
        } else {
          l.golden_path = paths[0];
        }
      } else {
        continue;
      }
      out.push_back(std::move(l));
    }
  }
  return out;
}

std::vector<LabelRow> read_metadata_labels(std::span<const std::byte> bytes, const std::string& display_path,
                                           const std::string& rel_path, const ReadLimits& limits) {
  const MemoryInput in(bytes, display_path, limits);
  return read_metadata_labels(display_path, rel_path, in.read_string(0, static_cast<std::size_t>(in.size())));
}

}  // namespace aitdb::ingest
