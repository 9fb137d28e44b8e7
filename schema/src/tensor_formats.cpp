#include "aitdb/schema/tensor_formats.h"

#include <nlohmann/json.hpp>

#include "aitdb/schema/errors.h"

namespace aitdb::formats {
namespace {

std::string join_dims(std::span<const std::int64_t> dims, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? sep : "") + std::to_string(dims[i]);
  return s;
}

}  // namespace

std::string npy_header(std::string_view descr, std::span<const std::int64_t> shape, bool fortran_order) {
  // A 1-tuple keeps its trailing comma: "(3,)".
  std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': " + (fortran_order ? "True" : "False") +
                     ", 'shape': (" + join_dims(shape, ", ") + (shape.size() == 1 ? "," : "") + "), }";
  constexpr std::size_t kPrefix = 10;  // magic (6) + version (2) + header length (2)
  const std::size_t total = kPrefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  if (dict.size() > 0xFFFFU) throw FormatError("npy header", "longer than a version 1.0 header can be");
  std::string h = "\x93NUMPY";
  h += '\x01';
  h += '\x00';
  h += static_cast<char>(dict.size() & 0xFFU);
  h += static_cast<char>((dict.size() >> 8U) & 0xFFU);
  return h + dict;
}

std::string npy_header(DType dtype, std::span<const std::int64_t> shape) {
  const auto descr = dtype_info(dtype).numpy_descr;
  if (descr.empty()) throw FormatError(std::string(dtype_name(dtype)), "numpy has no such dtype");
  return npy_header(descr, shape);
}

std::string atb_bin_header(int acl_dtype_code, int acl_format, std::span<const std::int64_t> dims,
                           std::uint64_t payload_bytes) {
  const std::string n = std::to_string(payload_bytes);
  return "$Version=1.0\n$Object.Count=1\n$Object.Length=" + n + "\nformat=" + std::to_string(acl_format) +
         "\ndtype=" + std::to_string(acl_dtype_code) + "\ndims=" + join_dims(dims, ",") + "\n$Object.data=0," + n +
         "\n$End=1\n";
}

std::string safetensors_header(std::span<const SafetensorsEntryInfo> entries) {
  // Keys in the order given (nlohmann's ordered_json), so the file is the same on every run.
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  std::uint64_t offset = 0;
  for (const auto& e : entries) {
    header[std::string(e.name)] = {{"dtype", e.dtype},
                                   {"shape", std::vector<std::int64_t>(e.shape.begin(), e.shape.end())},
                                   {"data_offsets", {offset, offset + e.nbytes}}};
    offset += e.nbytes;
  }
  header["__metadata__"] = {{"format", "pt"}};
  const std::string text = header.dump();
  std::string out(8, '\0');
  const std::uint64_t n = text.size();
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xFFU);
  return out + text;
}

}  // namespace aitdb::formats
