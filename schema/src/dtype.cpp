#include "aitdb/schema/dtype.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace aitdb {
namespace {

// The one dtype table: every code and name a dump flavour uses for a type (docs/readers.md).
// GE's dump enum only lists exact equivalents; fp8 there is not confirmed, so it has none.
// clang-format off
constexpr std::array<DTypeInfo, kDTypeCount> kInfos{{
    {DType::Float32, "float32", 4, 0, "<f4", "torch.float32", false, "F32", "FloatStorage", 1},
    {DType::Float16, "float16", 2, 1, "<f2", "torch.float16", false, "F16", "HalfStorage", 2},
    // numpy has no bfloat16 (ml_dtypes' arrays save as raw '<V2' records, which numpy loads as
    // opaque bytes): no descr, so .npy export writes these values as float32 (docs/readers.md).
    {DType::BFloat16, "bfloat16", 2, 27, "", "torch.bfloat16", false, "BF16", "BFloat16Storage", 27},
    {DType::Int8, "int8", 1, 2, "|i1", "torch.int8", false, "I8", "CharStorage", 3},
    {DType::UInt8, "uint8", 1, 4, "|u1", "torch.uint8", false, "U8", "ByteStorage", 4},
    {DType::Int16, "int16", 2, 6, "<i2", "torch.int16", false, "I16", "ShortStorage", 5},
    {DType::UInt16, "uint16", 2, 7, "<u2", "torch.uint16", false, "U16", "UInt16Storage", 6},
    {DType::Int32, "int32", 4, 3, "<i4", "torch.int32", false, "I32", "IntStorage", 7},
    {DType::UInt32, "uint32", 4, 8, "<u4", "torch.uint32", false, "U32", "UInt32Storage", 9},
    {DType::Int64, "int64", 8, 9, "<i8", "torch.int64", false, "I64", "LongStorage", 8},
    {DType::UInt64, "uint64", 8, 10, "<u8", "torch.uint64", false, "U64", "UInt64Storage", 10},
    {DType::Float64, "float64", 8, 11, "<f8", "torch.float64", false, "F64", "DoubleStorage", 12},
    {DType::Bool, "bool", 1, 12, "|b1", "torch.bool", false, "BOOL", "BoolStorage", 11},
    {DType::Complex64, "complex64", 8, 16, "<c8", "torch.complex64", true, "C64", "ComplexFloatStorage", 16},
    {DType::Complex128, "complex128", 16, 17, "<c16", "torch.complex128", true, "", "ComplexDoubleStorage", 17},
    {DType::Float8E4M3FN, "float8_e4m3fn", 1, 36, "", "torch.float8_e4m3fn", false, "F8_E4M3", "Float8_e4m3fnStorage", -1},
    {DType::Float8E5M2, "float8_e5m2", 1, 35, "", "torch.float8_e5m2", false, "F8_E5M2", "Float8_e5m2Storage", -1},
}};
// clang-format on

struct AclName {
  std::string_view name;
  DType dtype;
};
// ATB csv names (docs/formats.md "csv/string name"); "uint32" for UINT16 is a known typo in one
// Mki copy and is accepted through the numeric code path only, so it is not listed here.
constexpr std::array<AclName, 22> kAclNames{{
    {"float", DType::Float32},         {"float32", DType::Float32},
    {"float16", DType::Float16},       {"half", DType::Float16},
    {"bf16", DType::BFloat16},         {"bfloat16", DType::BFloat16},
    {"int8", DType::Int8},             {"uint8", DType::UInt8},
    {"int16", DType::Int16},           {"uint16", DType::UInt16},
    {"int32", DType::Int32},           {"uint32", DType::UInt32},
    {"int64", DType::Int64},           {"uint64", DType::UInt64},
    {"double", DType::Float64},        {"float64", DType::Float64},
    {"bool", DType::Bool},             {"complex64", DType::Complex64},
    {"complex128", DType::Complex128}, {"float8_e4m3fn", DType::Float8E4M3FN},
    {"float8_e5m2", DType::Float8E5M2}, {"fp16", DType::Float16},
}};

struct AclUnsupported {
  int code;
  std::string_view name;
};
constexpr std::array<AclUnsupported, 12> kAclUnsupported{{
    {-1, "undefined"},
    {13, "string"},
    {29, "int4"},
    {30, "uint1"},
    {33, "complex32"},
    {34, "hifloat8"},
    {37, "float8_e8m0"},
    {38, "float6_e3m2"},
    {39, "float6_e2m3"},
    {40, "float4_e2m1"},
    {41, "float4_e1m2"},
    {42, "hifloat4"},
}};

float e4m3fn_to_float(std::uint8_t v) {
  const bool neg = (v & 0x80U) != 0;
  const unsigned exp = (v >> 3U) & 0xFU;
  const unsigned man = v & 0x7U;
  float r;
  if (exp == 0xF && man == 0x7) {
    r = std::numeric_limits<float>::quiet_NaN();  // e4m3fn has no inf, only this NaN pattern
  } else if (exp == 0) {
    r = std::ldexp(static_cast<float>(man) / 8.0F, -6);
  } else {
    r = std::ldexp(1.0F + static_cast<float>(man) / 8.0F, static_cast<int>(exp) - 7);
  }
  return neg ? -r : r;
}

// e5m2 is the upper byte of an IEEE half.
float e5m2_to_float(std::uint8_t v) { return half_to_float(static_cast<std::uint16_t>(v << 8U)); }

template <typename T>
T load(const std::byte* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

#if defined(__x86_64__)
__attribute__((target("avx,f16c"))) void half_block_f16c(const std::byte* src, std::size_t n,
                                                          float* out) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + 2 * i));
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
  }
  for (; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(src + 2 * i));
}
// CPUID leaf 1: ECX bit 29 is F16C, bit 28 AVX. Read directly because clang's
// __builtin_cpu_supports does not know "f16c" (the fuzz build uses clang).
bool have_f16c_cpuid() {
  static const bool ok = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
    return (ecx & (1U << 29U)) != 0 && (ecx & (1U << 28U)) != 0;
  }();
  return ok;
}
#endif

void half_block(const std::byte* src, std::size_t n, float* out) {
#if defined(__x86_64__)
  if (cpu_has_f16c()) {
    half_block_f16c(src, n, out);
    return;
  }
#endif
  for (std::size_t i = 0; i < n; ++i) out[i] = half_to_float(load<std::uint16_t>(src + 2 * i));
}

template <typename Out>
void convert(DType t, const std::byte* src, std::size_t n, Out* out) {
  switch (t) {
    case DType::Float32:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<float>(src + 4 * i));
      return;
    case DType::Float16:
      if constexpr (std::is_same_v<Out, float>) {
        half_block(src, n, out);
      } else {
        float buf[256];
        for (std::size_t i = 0; i < n; i += 256) {
          const std::size_t m = std::min<std::size_t>(256, n - i);
          half_block(src + 2 * i, m, buf);
          for (std::size_t k = 0; k < m; ++k) out[i + k] = buf[k];
        }
      }
      return;
    case DType::BFloat16:
      for (std::size_t i = 0; i < n; ++i) out[i] = bf16_to_float(load<std::uint16_t>(src + 2 * i));
      return;
    case DType::Int8:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::int8_t>(src + i));
      return;
    case DType::UInt8:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::uint8_t>(src + i));
      return;
    case DType::Int16:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::int16_t>(src + 2 * i));
      return;
    case DType::UInt16:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::uint16_t>(src + 2 * i));
      return;
    case DType::Int32:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::int32_t>(src + 4 * i));
      return;
    case DType::UInt32:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::uint32_t>(src + 4 * i));
      return;
    case DType::Int64:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::int64_t>(src + 8 * i));
      return;
    case DType::UInt64:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<std::uint64_t>(src + 8 * i));
      return;
    case DType::Float64:
      for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Out>(load<double>(src + 8 * i));
      return;
    case DType::Bool:
      // Any non-zero byte is true, as numpy and torch read it.
      for (std::size_t i = 0; i < n; ++i) out[i] = load<std::uint8_t>(src + i) != 0 ? 1 : 0;
      return;
    case DType::Complex64:
      for (std::size_t i = 0; i < 2 * n; ++i) out[i] = static_cast<Out>(load<float>(src + 4 * i));
      return;
    case DType::Complex128:
      for (std::size_t i = 0; i < 2 * n; ++i) out[i] = static_cast<Out>(load<double>(src + 8 * i));
      return;
    case DType::Float8E4M3FN: {
      static const auto table = [] {
        std::array<float, 256> tab{};
        for (unsigned v = 0; v < 256; ++v) tab[v] = e4m3fn_to_float(static_cast<std::uint8_t>(v));
        return tab;
      }();
      for (std::size_t i = 0; i < n; ++i) out[i] = table[load<std::uint8_t>(src + i)];
      return;
    }
    case DType::Float8E5M2:
      for (std::size_t i = 0; i < n; ++i) out[i] = e5m2_to_float(load<std::uint8_t>(src + i));
      return;
  }
}

}  // namespace

bool cpu_has_f16c() {
#if defined(__x86_64__)
  return have_f16c_cpuid();
#else
  return false;
#endif
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000U) << 16U;
  const std::uint32_t exp = (h >> 10U) & 0x1FU;
  const std::uint32_t man = h & 0x3FFU;
  std::uint32_t bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else {  // subnormal half: normalise into a float32
      const float f = std::ldexp(static_cast<float>(man), -24);
      return sign != 0 ? -f : f;
    }
  } else if (exp == 0x1F) {
    bits = sign | 0x7F800000U | (man << 13U);
  } else {
    bits = sign | ((exp + 112U) << 23U) | (man << 13U);
  }
  return std::bit_cast<float>(bits);
}

float bf16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16U);
}

const DTypeInfo& dtype_info(DType t) { return kInfos.at(static_cast<std::size_t>(t)); }
std::string_view dtype_name(DType t) { return dtype_info(t).name; }
std::size_t dtype_size(DType t) { return dtype_info(t).itemsize; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const auto& i : kInfos) {
    if (i.name == name) return i.dtype;
  }
  return std::nullopt;
}


namespace {
// The first row whose field `field` equals `key`.
template <typename Field, typename Key>
std::optional<DType> find_by(Field field, const Key& key) {
  for (const auto& i : kInfos) {
    if (field(i) == key) return i.dtype;
  }
  return std::nullopt;
}
// Names: an empty field means "the format has no such type", so an empty key never matches.
template <typename Field>
std::optional<DType> find_by_name(Field field, std::string_view name) {
  return name.empty() ? std::nullopt : find_by(field, name);
}
}  // namespace

std::optional<DType> dtype_from_acl_code(int code) {
  return find_by([](const DTypeInfo& i) { return i.acl_code; }, code);
}

std::optional<DType> dtype_from_numpy_code(std::string_view code) {
  return find_by_name([](const DTypeInfo& i) { return i.numpy_descr.empty() ? i.numpy_descr : i.numpy_descr.substr(1); },
                      code);
}

std::optional<DType> dtype_from_safetensors_name(std::string_view name) {
  return find_by_name([](const DTypeInfo& i) { return i.safetensors_name; }, name);
}

std::optional<DType> dtype_from_torch_storage(std::string_view storage_class) {
  return find_by_name([](const DTypeInfo& i) { return i.torch_storage; }, storage_class);
}

std::optional<DType> dtype_from_ge_code(int code) {
  // -1 marks "no GE code" in the table; it is never a code to look up.
  return code < 0 ? std::nullopt : find_by([](const DTypeInfo& i) { return i.ge_code; }, code);
}

std::optional<DType> dtype_from_acl_name(std::string_view name) {
  for (const auto& n : kAclNames) {
    if (n.name == name) return n.dtype;
  }
  return std::nullopt;
}

std::string acl_code_description(int code) {
  for (const auto& u : kAclUnsupported) {
    if (u.code == code) return std::to_string(code) + " (" + std::string(u.name) + ")";
  }
  return std::to_string(code);
}

std::size_t scalar_count(DType t, std::size_t numel) {
  return dtype_info(t).is_complex ? 2 * numel : numel;
}

void to_double(DType t, const std::byte* src, std::size_t numel, double* out) {
  convert(t, src, numel, out);
}
void to_float(DType t, const std::byte* src, std::size_t numel, float* out) {
  convert(t, src, numel, out);
}

std::optional<std::uint64_t> checked_numel(std::span<const std::int64_t> shape) {
  constexpr std::uint64_t kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  std::uint64_t n = 1;
  for (const auto d : shape) {
    if (d < 0) return std::nullopt;
    const auto u = static_cast<std::uint64_t>(d);
    if (u != 0 && n > kMax / u) return std::nullopt;
    n *= u;
  }
  return n;
}

std::optional<std::uint64_t> checked_nbytes(std::span<const std::int64_t> shape, DType t) {
  const auto n = checked_numel(shape);
  if (!n) return std::nullopt;
  const std::uint64_t size = dtype_size(t);
  if (*n != 0 && *n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / size) {
    return std::nullopt;
  }
  return *n * size;
}

std::string shape_to_json(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace aitdb
