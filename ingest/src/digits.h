#pragma once
// Digit-string check shared by the dump name parsers. Internal to ingest.
#include <algorithm>
#include <string_view>

namespace aitdb::ingest {

inline bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace aitdb::ingest
