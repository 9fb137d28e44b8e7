#pragma once
// GE (graph engine) dump files of torchair's GE graph mode (docs/formats_graph_mode.md §1):
// one file per executed op holding all its inputs and outputs, named
// {OpType}.{OpName}.{task_id}.{stream_id}.{timestamp}, inside
// [worldsize{W}_global_rank{R}/]{time}/{device}/{model_name}/{model_id}/{token}/.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {

// What a GE dump file name says. Op names may contain dots: the op name is everything between
// the first part and the last three (msit's rule).
struct GeDumpName {
  std::string op_type;
  std::string op_name;
  std::int64_t task_id = 0;
  std::int64_t stream_id = 0;
  std::string timestamp;  // digits, kept as text (16-digit microseconds)
};
// nullopt when the name is not of that form (fewer than five parts, non-numeric ids).
std::optional<GeDumpName> parse_ge_dump_name(std::string_view file_name);

// The "worldsize{W}_global_rank{R}" folder newer torch_npu puts above GE and FX dumps.
struct RankFolder {
  std::string name;
  std::int64_t world_size = 0;
  std::int64_t rank = 0;
};
std::optional<RankFolder> parse_rank_folder(std::string_view name);

// What the directories above a GE dump file say. Components are relative to the dump root;
// a leading "msit_ge_dump" component is skipped.
struct GeDumpPath {
  std::optional<RankFolder> rank_folder;
  std::string time;  // 14 digits, YYYYMMDDHHMMSS
  std::int64_t device_id = 0;
  std::string model_name;
  std::int64_t model_id = 0;
  std::int64_t token = 0;  // the data_index (step) directory
  GeDumpName name;
};
// nullopt unless rel is exactly [rank_dir/]time/device/model_name/model_id/token/file.
std::optional<GeDumpPath> parse_ge_dump_path(const std::vector<std::string>& rel);

// One input or output of a GE dump file.
struct GeDumpTensor {
  bool is_input = true;
  int index = 0;
  int ge_dtype = 0;   // GE's OutputDataType value as written
  int ge_format = 0;  // OutputFormat value as written (device format)
  std::vector<std::int64_t> device_shape;
  std::optional<std::vector<std::int64_t>> original_shape;  // nullopt: absent or has dynamic dims
  std::uint64_t size = 0;                                   // bytes in the data region
  std::optional<std::string> original_op_name;              // outputs only
  std::optional<std::uint32_t> original_output_index;
  // The decoded tensor (name "input.{i}" / "output.{i}", ND layout, original shape), or nullopt
  // with `refusal` saying why (an unstorable dtype, a device format with no defined conversion).
  std::optional<DecodedTensor> tensor;
  std::string refusal;
};

struct GeDump {
  std::string version;
  std::uint64_t dump_time = 0;  // microseconds since the epoch
  std::string op_name;
  std::vector<GeDumpTensor> inputs;
  std::vector<GeDumpTensor> outputs;
  std::size_t buffer_count = 0;  // OpBuffer entries (L1 dumps): bytes skipped, not tensors
  std::uint64_t buffer_bytes = 0;
};

// Decodes a whole GE dump file held in memory; display_path only names it in errors. Throws
// FormatError(display_path, reason) for anything structurally wrong (lengths, sizes, truncation);
// a tensor that is fine structurally but cannot be stored is returned with a refusal instead.
GeDump read_ge_dump(std::span<const std::byte> file, const std::string& display_path);
// Same, reading the header and then each tensor with positioned reads (no whole-file copy).
GeDump read_ge_dump(const std::filesystem::path& path, const ReadLimits& limits);

// The place of one tensor of a GE dump file: the file's place (from the GE layout) with io
// "in"/"out" and io_index filled from the tensor.
TensorPlace ge_tensor_place(TensorPlace file_place, const GeDumpTensor& t);

// Cheap check on the first bytes of a file: an 8-byte header length that fits the file and a
// header that starts like a DumpData message. For sniffing; read_ge_dump does the real checks.
bool looks_like_ge_dump(std::span<const std::byte> head, std::uint64_t file_size);

}  // namespace aitdb::ingest
