#pragma once
// FX dumps of torchair (docs/formats_graph_mode.md §3): one .npy per argument or output of each
// FX node call, named {node}-{aten op}.{INPUT|OUTPUT}.{i}[.{j}].{timestamp}.npy, inside
// worldsize{W}_global_rank{R}/{model}/{token}/ or the legacy data_dump/{token+1}/gm_{time}_dump/.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/ingest/ge_dump.h"

namespace aitdb::ingest {

struct FxDumpName {
  std::string node;    // FX node name, "add_1"
  std::string target;  // aten overload, "aten.add.Tensor"
  std::string key;     // "{node}-{target}": the op key, and _fx_tensor_name minus ".OUTPUT.{i}"
  bool is_input = false;
  std::int64_t index = 0;
  std::optional<std::int64_t> subindex;  // element j of a tensor-list argument
  std::string timestamp;                 // YYYYMMDDHHMMSSffffff, kept as text
};
std::optional<FxDumpName> parse_fx_dump_name(std::string_view file_name);

// What the directories above an FX dump file say. A leading "msit_fx_dump" component is skipped.
struct FxDumpPath {
  std::optional<RankFolder> rank_folder;  // rank layout only
  bool legacy = false;                    // data_dump/{token+1}/gm_{time}_dump
  std::string model;                      // "gm_20240125031118787351_dump" or a graph name
  std::int64_t token = 0;                 // already corrected for the legacy layout's +1
  FxDumpName name;
};
// Accepts worldsize{W}_global_rank{R}/{model}/{token}/file, data_dump/{token+1}/{model}/file and
// {token+1}/{model}/file (root at data_dump).
std::optional<FxDumpPath> parse_fx_dump_path(const std::vector<std::string>& rel);

// torchair saves non-tensor arguments (a dtype, None, a string) as 0-d string arrays: they are
// arguments of the call, not tensors, and not errors either.
struct FxNonTensorArgument {
  std::string text;  // str(x) as torchair wrote it; several elements joined with ", "
};
using FxDumpValue = std::variant<DecodedTensor, FxNonTensorArgument>;

// Reads one FX .npy: numbers (including 0-d ints/floats) as a tensor, string arrays as an argument.
FxDumpValue read_fx_dump_file(const std::filesystem::path& path, const ReadLimits& limits);

}  // namespace aitdb::ingest
