// metadata.json files that pair tensors by data_id (docs/readers.md):
//   msit dump_data:   {"<data_id>": {"<token>": ["<golden path>", "<my path>"]}}
//   aclcmp dump_data: {"<data_id>": {"<token>": "<path>" | ["<path>"]}} in golden_tensor/ or acl_tensor/
//   aclcmp weight-MD5 (docs/compare.md): {"<token>": {"<md5>": ["<npy path>"]}}: nested the other way
//   round, so the MD5 is the data_id and the outer key the token
#include <algorithm>
#include <nlohmann/json.hpp>

#include "aitdb/ingest/layout.h"
#include "aitdb/schema/errors.h"
#include "file_io.h"
#include "metadata_labels.h"

namespace aitdb::ingest {
namespace {

bool is_md5_hex(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool is_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Every outer key a token number and every inner key an MD5: the weight-MD5 metadata.
bool is_weight_md5_form(const nlohmann::json& j) {
  bool any = false;
  for (const auto& [outer, inner] : j.items()) {
    if (!is_digits(outer) || !inner.is_object()) return false;
    for (const auto& [key, v] : inner.items()) {
      if (!is_md5_hex(key)) return false;
      any = true;
    }
  }
  return any;
}

}  // namespace

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
  const bool md5_form = is_weight_md5_form(j);
  if (md5_form) side = "golden";  // only the PyTorch side writes this form
  std::vector<LabelRow> out;
  for (const auto& [outer, inner] : j.items()) {
    if (!inner.is_object()) throw FormatError(path, "metadata.json entry '" + outer + "' is not an object of tokens");
    for (const auto& [inner_key, v] : inner.items()) {
      const std::string& data_id = md5_form ? inner_key : outer;
      const std::string& token = md5_form ? outer : inner_key;
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
