// What GE dump file names and their directories say (docs/formats_graph_mode.md §1.1):
// [msit_ge_dump/][worldsize{W}_global_rank{R}/]{time}/{device}/{model_name}/{model_id}/{token}/
// {OpType}.{OpName}.{task_id}.{stream_id}.{timestamp}.
#include <algorithm>
#include <regex>

#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/layout.h"
#include "digits.h"

namespace aitdb::ingest {
namespace {

std::vector<std::string_view> split_dots(std::string_view s) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    parts.push_back(s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

}  // namespace

std::optional<GeDumpName> parse_ge_dump_name(std::string_view file_name) {
  // msit skips these beside the dumps; stats-mode dumps are .csv text.
  for (const std::string_view ext : {".txt", ".npy", ".bin", ".csv", ".npz"}) {
    if (file_name.ends_with(ext)) return std::nullopt;
  }
  const auto parts = split_dots(file_name);
  const std::size_t n = parts.size();
  if (n < 5 || parts[0].empty()) return std::nullopt;
  if (!all_digits(parts[n - 3]) || !all_digits(parts[n - 2]) || !all_digits(parts[n - 1])) return std::nullopt;
  GeDumpName name;
  name.op_type = std::string(parts[0]);
  // The op name is everything between the type and the last three parts: it may contain dots.
  const auto first = parts[1].data() - file_name.data();
  const auto last = parts[n - 4].data() + parts[n - 4].size() - file_name.data();
  name.op_name = std::string(file_name.substr(static_cast<std::size_t>(first), static_cast<std::size_t>(last - first)));
  if (name.op_name.empty()) return std::nullopt;
  const auto task = parse_int(std::string(parts[n - 3]));
  const auto stream = parse_int(std::string(parts[n - 2]));
  if (!task || !stream) return std::nullopt;  // digits beyond int64
  name.task_id = *task;
  name.stream_id = *stream;
  name.timestamp = std::string(parts[n - 1]);
  return name;
}

std::optional<RankFolder> parse_rank_folder(std::string_view name) {
  static const std::regex kRankDir(R"(^worldsize(\d{1,9})_global_rank(\d{1,9})$)");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(name.begin(), name.end(), m, kRankDir)) return std::nullopt;
  return RankFolder{std::string(name), *parse_int(m[1].str()), *parse_int(m[2].str())};
}

std::optional<GeDumpPath> parse_ge_dump_path(const std::vector<std::string>& rel) {
  std::size_t i = 0;
  if (!rel.empty() && rel[0] == "msit_ge_dump") ++i;
  GeDumpPath p;
  if (i < rel.size()) {
    p.rank_folder = parse_rank_folder(rel[i]);
    if (p.rank_folder) ++i;
  }
  if (rel.size() - i != 6) return std::nullopt;
  const auto time = rel[i];
  const auto device = parse_int(rel[i + 1]);
  const auto model_id = parse_int(rel[i + 3]);
  const auto token = parse_int(rel[i + 4]);
  auto name = parse_ge_dump_name(rel[i + 5]);
  if (time.size() != 14 || !all_digits(time) || !device || !model_id || !token || !name) return std::nullopt;
  p.time = time;
  p.device_id = *device;
  p.model_name = rel[i + 2];
  p.model_id = *model_id;
  p.token = *token;
  p.name = std::move(*name);
  return p;
}

}  // namespace aitdb::ingest
