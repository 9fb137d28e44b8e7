#pragma once
// The tensor element types aitdb stores, with the code tables of every dump flavour mapped onto
// them. Bytes are always little-endian; readers swap big-endian sources before they get here.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aitdb {

enum class DType : std::uint8_t {
  Float32,
  Float16,
  BFloat16,
  Int8,
  UInt8,
  Int16,
  UInt16,
  Int32,
  UInt32,
  Int64,
  UInt64,
  Float64,
  Bool,
  Complex64,
  Complex128,
  Float8E4M3FN,
  Float8E5M2,
};

inline constexpr int kDTypeCount = 17;

struct DTypeInfo {
  DType dtype;
  std::string_view name;        // canonical name stored in the database ("float16")
  std::size_t itemsize;         // bytes per element
  int acl_code;                 // aclDataType (docs/formats.md)
  std::string_view numpy_descr; // descr written by export (little-endian); "" if numpy has no such type
  std::string_view torch_name;  // "torch.float16", as msit reports print it
  bool is_complex;
  std::string_view safetensors_name;  // "F16"; "" if the format has no such type
  std::string_view torch_storage;     // pickled storage class of torch.save: "HalfStorage"
  int ge_code;                        // GE dump dtype enum (not aclDataType!); -1 if none
};

const DTypeInfo& dtype_info(DType t);
std::string_view dtype_name(DType t);
std::size_t dtype_size(DType t);

// Lookups return nullopt for codes/names aitdb does not store (string, int4, fp4, ...).
std::optional<DType> dtype_from_name(std::string_view name);  // canonical name
std::optional<DType> dtype_from_acl_code(int code);
// ATB's csv/string names ("float", "float16", "bf16", ...) and a few aliases.
std::optional<DType> dtype_from_acl_name(std::string_view name);
// numpy's type code without the byte order ("f2", "b1", "c16"), as in a .npy descr.
std::optional<DType> dtype_from_numpy_code(std::string_view code);
std::optional<DType> dtype_from_safetensors_name(std::string_view name);
std::optional<DType> dtype_from_torch_storage(std::string_view storage_class);
// GE dump dtype enum: exact equivalents only (quantised and sub-byte GE types are not stored).
std::optional<DType> dtype_from_ge_code(int code);
// Human-readable name for an aclDataType code aitdb cannot store, for error messages.
std::string acl_code_description(int code);

// Number of scalars (complex counts two per element) that to_double/to_float produce.
std::size_t scalar_count(DType t, std::size_t numel);

// Exact conversion of n elements starting at src into scalars (complex: re, im interleaved).
void to_double(DType t, const std::byte* src, std::size_t numel, double* out);
void to_float(DType t, const std::byte* src, std::size_t numel, float* out);

float half_to_float(std::uint16_t h);
// Whether this CPU (and OS) has AVX and F16C, the half-precision conversions the fast paths use.
bool cpu_has_f16c();
float bf16_to_float(std::uint16_t b);

// Shape helpers with overflow checks: nullopt when a dim is negative or the product of dims
// (times itemsize) does not fit in 63 bits.
std::optional<std::uint64_t> checked_numel(std::span<const std::int64_t> shape);
std::optional<std::uint64_t> checked_nbytes(std::span<const std::int64_t> shape, DType t);
std::string shape_to_json(std::span<const std::int64_t> shape);

}  // namespace aitdb
