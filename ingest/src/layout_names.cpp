// Name tests shared by the dump layouts and discovery.
#include <charconv>

#include "aitdb/ingest/layout.h"
#include "aitdb/ingest/readers.h"

namespace aitdb::ingest {
std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool is_tensor_file_name(const std::string& name) {
  for (const char* ext : {".bin", ".npy", ".pth", ".pt", ".safetensors"}) {
    if (name.ends_with(ext)) return true;
  }
  return is_md5_name(name);
}

bool is_aux_file_name(const std::string& name) {
  for (const char* ext : {".json", ".csv", ".txt"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

}  // namespace aitdb::ingest
