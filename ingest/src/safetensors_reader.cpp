// .safetensors reader (formats.md §9.3): u64 header length, JSON header, one data buffer.
#include <nlohmann/json.hpp>

#include "aitdb/ingest/readers.h"
#include "file_io.h"

namespace aitdb::ingest {
namespace {

constexpr std::uint64_t kMaxHeader = 100ULL << 20U;  // the format's own reference limit

std::optional<DType> safetensors_dtype(const std::string& s) {
  static const std::pair<const char*, DType> kMap[] = {
      {"F32", DType::Float32}, {"F16", DType::Float16}, {"BF16", DType::BFloat16}, {"F64", DType::Float64},
      {"I8", DType::Int8},     {"U8", DType::UInt8},    {"I16", DType::Int16},     {"U16", DType::UInt16},
      {"I32", DType::Int32},   {"U32", DType::UInt32},  {"I64", DType::Int64},     {"U64", DType::UInt64},
      {"BOOL", DType::Bool},   {"C64", DType::Complex64}, {"F8_E4M3", DType::Float8E4M3FN},
      {"F8_E5M2", DType::Float8E5M2}};
  for (const auto& [k, t] : kMap) {
    if (s == k) return t;
  }
  return std::nullopt;
}

}  // namespace

std::vector<DecodedTensor> read_safetensors(const std::filesystem::path& path, const ReadLimits& limits) {
  const InputFile f(path, limits);
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
  std::vector<DecodedTensor> out;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets") ||
        !entry["dtype"].is_string() || !entry["shape"].is_array() || !entry["data_offsets"].is_array() ||
        entry["data_offsets"].size() != 2) {
      f.fail(where + " lacks dtype, shape or data_offsets");
    }
    const auto dtype = safetensors_dtype(entry["dtype"].get<std::string>());
    if (!dtype) f.fail(where + " has unsupported dtype " + entry["dtype"].get<std::string>());
    DecodedTensor t;
    t.name = name;
    t.dtype = *dtype;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_unsigned()) f.fail(where + " has a shape that is not non-negative integers");
      const auto v = d.get<std::uint64_t>();
      if (v > static_cast<std::uint64_t>(INT64_MAX)) f.fail(where + " has a dimension that overflows");
      t.shape.push_back(static_cast<std::int64_t>(v));
    }
    const auto& off = entry["data_offsets"];
    if (!off[0].is_number_unsigned() || !off[1].is_number_unsigned()) f.fail(where + " has bad data_offsets");
    const auto begin = off[0].get<std::uint64_t>();
    const auto end = off[1].get<std::uint64_t>();
    if (begin > end || end > buffer) {
      f.fail(where + " data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) + "] lie outside the " +
             std::to_string(buffer) + "-byte buffer");
    }
    const auto need = checked_nbytes(t.shape, *dtype);
    if (!need || *need != end - begin) {
      f.fail(where + " spans " + std::to_string(end - begin) + " bytes but its shape and dtype need " +
             (need ? std::to_string(*need) : std::string("more than 2^63")));
    }
    t.data = f.read_vec(base + begin, static_cast<std::size_t>(end - begin));
    t.has_data = true;
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace aitdb::ingest
