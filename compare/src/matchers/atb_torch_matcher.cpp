#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "aitdb/schema/errors.h"
#include "matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const atb_torch_op_map;
extern const char* const atb_torch_matcher;
}  // namespace sql

namespace {

// msit's validate_json: keys and values are op types with an optional tensor file stem.
bool is_mapping_word(const std::string& s) {
  for (const char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

}  // namespace

const Matcher& atb_torch_matcher() {
  static const Matcher m{"atb_torch", std::string(sql::atb_torch_op_map) + "\n" + sql::atb_torch_matcher,
                         [](Store&, const RunInfo& g, const RunInfo& my) {
                           return g.flavour == "torch_tree" && my.flavour == "atb_tree";
                         },
                         "a torch_tree golden (aitdb or msit torch hooks) with an atb_tree my run (ATB dump)"};
  return m;
}

std::string read_op_mapping_file(const std::string& file_or_dir) {
  namespace fs = std::filesystem;
  fs::path file(file_or_dir);
  std::error_code ec;
  if (fs::is_directory(file, ec)) file /= "op_mapping_file.json";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw NotFoundError(file.string(), "op mapping file not found or not readable");
  std::stringstream text;
  text << in.rdbuf();
  const auto j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw FormatError(file.string(), "op mapping file is not a JSON object");
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : j.items()) {
    if (!is_mapping_word(key)) {
      throw FormatError(file.string(), "op mapping key '" + key + "' is not [A-Za-z0-9_]*");
    }
    nlohmann::json values = nlohmann::json::array();
    // msit iterates a string value character by character (quirk); a string is one torch type.
    if (value.is_string()) {
      values.push_back(value);
    } else if (value.is_array()) {
      values = value;
    } else {
      throw FormatError(file.string(), "op mapping value of '" + key + "' is neither a string nor a list");
    }
    for (const auto& v : values) {
      if (!v.is_string() || !is_mapping_word(v.get<std::string>())) {
        throw FormatError(file.string(), "op mapping value " + v.dump() + " of '" + key + "' is not [A-Za-z0-9_]*");
      }
    }
    out[key] = values;
  }
  return out.dump();
}

}  // namespace aitdb::compare
