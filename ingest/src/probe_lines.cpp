#include "probe_lines.h"

#include <charconv>

namespace aitdb::ingest {

std::optional<std::int64_t> parse_cell_int(std::string_view s) {
  std::int64_t v = 0;
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> parse_cell_number(std::string_view s) {
  double v = 0;
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

OpNameParts split_op_name(std::string_view name) {
  std::size_t cut = name.size();
  // Walk back over '_{digits}' groups.
  for (;;) {
    std::size_t d = cut;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9') --d;
    if (d == cut || d == 0 || name[d - 1] != '_') break;
    cut = d - 1;
  }
  if (cut == name.size() || cut == 0) return {std::string(name), std::nullopt};
  return {std::string(name.substr(0, cut)), std::string(name.substr(cut + 1))};
}

}  // namespace aitdb::ingest
