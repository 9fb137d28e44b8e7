// .safetensors reader (docs/readers.md): u64 header length, JSON header, one data buffer.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "aitdb/ingest/readers.h"
#include "file_io.h"

namespace aitdb::ingest {
namespace {

constexpr std::uint64_t kMaxHeader = 100ULL << 20U;  // the format's own reference limit
constexpr std::size_t kMaxRank = 64;                 // as the ATB and npy readers


std::vector<DecodedTensor> read_safetensors_from(const ByteSource& f) {
  if (f.size() < 8) f.fail("truncated: too short for a safetensors header");
  const std::uint64_t n = load_u64le(f.read_vec(0, 8).data());
  if (n > kMaxHeader || n > f.size() - 8) {
    f.fail("safetensors header length " + std::to_string(n) + " exceeds the file (" + std::to_string(f.size()) + " bytes)");
  }
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(f.read_string(8, static_cast<std::size_t>(n)));
  } catch (const nlohmann::json::exception& e) {
    f.fail(std::string("safetensors header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) f.fail("safetensors header is not a JSON object");
  const std::uint64_t base = 8 + n;
  const std::uint64_t buffer = f.size() - base;

  struct Entry {
    DecodedTensor tensor;
    std::uint64_t begin = 0;
    std::uint64_t end = 0;
  };
  std::vector<Entry> entries;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets") ||
        !entry["dtype"].is_string() || !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      f.fail(where + " lacks dtype, shape or data_offsets");
    }
    const auto dtype = dtype_from_safetensors_name(entry["dtype"].get<std::string>());
    if (!dtype) f.fail(where + " has unsupported dtype " + entry["dtype"].get<std::string>());
    Entry e;
    e.tensor.name = name;
    e.tensor.dtype = *dtype;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) f.fail(where + " has a shape that is not non-negative integers");
      const auto v = d.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(INT64_MAX)) f.fail(where + " has a dimension that overflows");
      e.tensor.shape.push_back(static_cast<std::int64_t>(v));
      if (e.tensor.shape.size() > kMaxRank) f.fail(where + " has more than 64 dimensions");
    }
    const auto& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) f.fail(where + " has bad data_offsets");
    e.begin = off[0].get<std::uint64_t>();
    e.end = off[1].get<std::uint64_t>();
    if (e.begin > e.end || e.end > buffer) {
      f.fail(where + " data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] lie outside the " +
             std::to_string(buffer) + "-byte buffer");
    }
    const auto need = checked_nbytes(e.tensor.shape, *dtype);
    if (!need || *need != e.end - e.begin) {
      f.fail(where + " spans " + std::to_string(e.end - e.begin) + " bytes but its shape and dtype need " +
             (need ? std::to_string(*need) : std::string("more than 2^63")));
    }
    entries.push_back(std::move(e));
  }
  // The entries must tile the data buffer exactly, in any order: a header length one byte off, or
  // offsets that overlap, leave a gap or stop short, would otherwise store shifted or foreign bytes.
  std::vector<const Entry*> by_offset;
  by_offset.reserve(entries.size());
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const Entry* x, const Entry* y) {
    return x->begin != y->begin ? x->begin < y->begin : x->end < y->end;
  });
  std::uint64_t covered = 0;
  for (const Entry* e : by_offset) {
    if (e->begin != covered) {
      f.fail("tensor '" + e->tensor.name + "' starts at buffer offset " + std::to_string(e->begin) + " but " +
             (e->begin < covered ? "the tensor before it ends at " : "the tensors before it end at ") +
             std::to_string(covered) + " (data_offsets must tile the buffer exactly)");
    }
    covered = e->end;
  }
  if (covered != buffer) {
    f.fail("the tensors cover " + std::to_string(covered) + " of the " + std::to_string(buffer) +
           "-byte data buffer (data_offsets must tile it exactly; is the header length off?)");
  }
  std::vector<DecodedTensor> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    e.tensor.data = f.read_vec(base + e.begin, static_cast<std::size_t>(e.end - e.begin));
    e.tensor.has_data = true;
    out.push_back(std::move(e.tensor));
  }
  return out;
}

}  // namespace

std::vector<DecodedTensor> read_safetensors(const std::filesystem::path& path, const ReadLimits& limits) {
  return read_safetensors_from(InputFile(path, limits));
}

std::vector<DecodedTensor> read_safetensors(std::span<const std::byte> bytes, const std::string& display_path,
                                            const ReadLimits& limits) {
  return read_safetensors_from(MemoryInput(bytes, display_path, limits));
}

}  // namespace aitdb::ingest
