// FX dump files (docs/formats_graph_mode.md §3): names, directories and content. The content is a
// plain .npy; what is FX-specific is that string arrays are arguments of the call, not errors.
#include <algorithm>

#include "aitdb/ingest/fx_dump.h"
#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/layout.h"
#include "aitdb/ingest/readers.h"
#include "digits.h"

namespace aitdb::ingest {
namespace {

// Splits "{i}[.{j}].{timestamp}" into its digit groups.
std::optional<std::vector<std::string_view>> digit_groups(std::string_view s) {
  std::vector<std::string_view> groups;
  std::size_t start = 0;
  while (true) {
    const auto dot = s.find('.', start);
    const auto g = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (!all_digits(g) || g.size() > 32) return std::nullopt;
    groups.push_back(g);
    if (dot == std::string_view::npos) return groups;
    start = dot + 1;
  }
}

}  // namespace

std::optional<FxDumpName> parse_fx_dump_name(std::string_view file_name) {
  if (!file_name.ends_with(".npy")) return std::nullopt;
  const std::string_view stem = file_name.substr(0, file_name.size() - 4);
  // The last marker wins: the aten target before it contains dots but never an io marker.
  const auto in = stem.rfind(".INPUT.");
  const auto out = stem.rfind(".OUTPUT.");
  if (in == std::string_view::npos && out == std::string_view::npos) return std::nullopt;
  const bool is_input = out == std::string_view::npos || (in != std::string_view::npos && in > out);
  const std::size_t at = is_input ? in : out;
  const std::size_t rest = at + (is_input ? 7 : 8);
  const auto groups = digit_groups(stem.substr(rest));
  if (!groups || groups->size() < 2 || groups->size() > 3) return std::nullopt;
  FxDumpName n;
  n.key = std::string(stem.substr(0, at));
  // FX node names are Python identifiers, so the first '-' ends the node name.
  const auto dash = n.key.find('-');
  if (dash == std::string::npos || dash == 0 || dash + 1 == n.key.size()) return std::nullopt;
  n.node = n.key.substr(0, dash);
  n.target = n.key.substr(dash + 1);
  n.is_input = is_input;
  const auto index = parse_int(std::string((*groups)[0]));
  if (!index) return std::nullopt;
  n.index = *index;
  if (groups->size() == 3) {
    n.subindex = parse_int(std::string((*groups)[1]));
    if (!n.subindex) return std::nullopt;
  }
  n.timestamp = std::string(groups->back());
  return n;
}

std::optional<FxDumpPath> parse_fx_dump_path(const std::vector<std::string>& rel) {
  std::size_t i = 0;
  if (!rel.empty() && rel[0] == "msit_fx_dump") ++i;
  FxDumpPath p;
  if (i < rel.size()) {
    if ((p.rank_folder = parse_rank_folder(rel[i]))) {
      // Rank layout: {rank}/{model}/{token}/file, token = folder number.
      if (rel.size() - i != 4) return std::nullopt;
      const auto token = parse_int(rel[i + 2]);
      if (!token || *token < 0) return std::nullopt;
      p.model = rel[i + 1];
      p.token = *token;
    } else {
      // Legacy layout: [data_dump/]{token+1}/gm_{time}_dump/file, token = folder number - 1.
      if (rel[i] == "data_dump") ++i;
      if (rel.size() - i != 3) return std::nullopt;
      const auto folder = parse_int(rel[i]);
      if (!folder || *folder < 1) return std::nullopt;
      p.legacy = true;
      p.model = rel[i + 1];
      p.token = *folder - 1;
    }
  }
  auto name = parse_fx_dump_name(rel.empty() ? std::string_view() : std::string_view(rel.back()));
  if (!name) return std::nullopt;
  p.name = std::move(*name);
  return p;
}

FxDumpValue read_fx_dump_file(const std::filesystem::path& path, const ReadLimits& limits) {
  if (auto texts = read_npy_strings(path, limits)) {
    FxNonTensorArgument arg;
    for (std::size_t k = 0; k < texts->size(); ++k) arg.text += (k == 0 ? "" : ", ") + (*texts)[k];
    return arg;
  }
  auto tensors = read_npy(path, limits);
  return std::move(tensors.front());
}

}  // namespace aitdb::ingest
