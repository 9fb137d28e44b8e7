#pragma once
// Line-level helpers shared by the readers of the probe's text side files (op io CSV,
// cpu_profiling; docs/formats.md): these files are read line by line, and a bad line is reported
// with its number while the rest of the file is kept.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aitdb::ingest {

struct LineError {
  std::int64_t line = 0;  // 1-based
  std::string reason;
};

inline std::string_view trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Cells between separators (n separators -> n + 1 cells), trimmed.
inline std::vector<std::string_view> split_trimmed(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (std::size_t start = 0;;) {
    const auto at = s.find(sep, start);
    out.push_back(trim(s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start)));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

// Calls on_line(number, text) for each line, without its '\n' (and a '\r' before it).
template <typename OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  std::int64_t number = 0;
  for (std::size_t start = 0; start < text.size();) {
    const auto nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(++number, line);
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

// A whole-cell decimal integer, or nullopt.
std::optional<std::int64_t> parse_cell_int(std::string_view s);
// A whole-cell decimal number, or nullopt.
std::optional<double> parse_cell_number(std::string_view s);

// The probe's op names are '{OpType}_{id path}' ('SplitOperation_2_0_0_3'); curated copies may
// carry the bare type. Splits off the trailing '_{digits}' groups.
struct OpNameParts {
  std::string type;
  std::optional<std::string> id_path;
};
OpNameParts split_op_name(std::string_view name);

}  // namespace aitdb::ingest
