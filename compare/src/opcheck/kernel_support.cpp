#include "kernel_support.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace aitdb::compare {

float round_to_dtype(DType dtype, float value) {
  switch (dtype) {
    case DType::Float16:
      // GCC's _Float16 conversion rounds to nearest even and overflows to inf, as torch's .half().
      return static_cast<float>(static_cast<_Float16>(value));
    case DType::BFloat16: {
      if (std::isnan(value)) return value;
      auto bits = std::bit_cast<std::uint32_t>(value);
      bits += 0x7FFFU + ((bits >> 16U) & 1U);
      return std::bit_cast<float>(bits & 0xFFFF0000U);
    }
    case DType::Bool: return value != 0.0F ? 1.0F : 0.0F;
    case DType::Int8:
    case DType::UInt8:
    case DType::Int16:
    case DType::UInt16:
    case DType::Int32:
    case DType::UInt32:
    case DType::Int64:
    case DType::UInt64: {
      if (!std::isfinite(value)) return 0.0F;
      // Truncate, then wrap into the type's range (two's complement), as a C cast through int64.
      const auto whole = static_cast<std::int64_t>(std::trunc(static_cast<double>(value)));
      switch (dtype) {
        case DType::Int8: return static_cast<float>(static_cast<std::int8_t>(whole));
        case DType::UInt8: return static_cast<float>(static_cast<std::uint8_t>(whole));
        case DType::Int16: return static_cast<float>(static_cast<std::int16_t>(whole));
        case DType::UInt16: return static_cast<float>(static_cast<std::uint16_t>(whole));
        case DType::Int32: return static_cast<float>(static_cast<std::int32_t>(whole));
        case DType::UInt32: return static_cast<float>(static_cast<std::uint32_t>(whole));
        default: return static_cast<float>(whole);
      }
    }
    default: return value;
  }
}

namespace opcheck {

void fail(const OpcheckCall& call, const std::string& reason) { throw FormatError(call.what, reason); }

void require_inputs(const OpcheckCall& call, std::size_t min, std::size_t max) {
  const std::size_t n = call.inputs.size();
  if (n >= min && n <= max) return;
  const std::string want = min == max ? std::to_string(min) : std::to_string(min) + ".." + std::to_string(max);
  fail(call, "expects " + want + " input tensors, got " + std::to_string(n));
}

namespace {

const Json* find_key(const OpcheckCall& call, const Json& block, const char* key) {
  if (!block.is_object()) return nullptr;
  const auto it = block.find(key);
  return it == block.end() || it->is_null() ? nullptr : &*it;
}

std::int64_t as_int(const OpcheckCall& call, const Json& value, const char* key) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
  if (value.is_number_float() && std::trunc(value.get<double>()) == value.get<double>()) {
    return static_cast<std::int64_t>(value.get<double>());
  }
  fail(call, std::string("param ") + key + " is not an integer: " + value.dump());
}

}  // namespace

std::int64_t param_int(const OpcheckCall& call, const Json& block, const char* key, std::int64_t fallback) {
  const Json* v = find_key(call, block, key);
  return v == nullptr ? fallback : as_int(call, *v, key);
}

std::int64_t required_int(const OpcheckCall& call, const Json& block, const char* key) {
  const Json* v = find_key(call, block, key);
  if (v == nullptr) fail(call, std::string("param ") + key + " is missing");
  return as_int(call, *v, key);
}

double param_double(const OpcheckCall& call, const Json& block, const char* key, double fallback) {
  const Json* v = find_key(call, block, key);
  if (v == nullptr) return fallback;
  if (!v->is_number()) fail(call, std::string("param ") + key + " is not a number: " + v->dump());
  return v->get<double>();
}

bool param_bool(const OpcheckCall& call, const Json& block, const char* key, bool fallback) {
  const Json* v = find_key(call, block, key);
  if (v == nullptr) return fallback;
  if (v->is_boolean()) return v->get<bool>();
  return as_int(call, *v, key) != 0;
}

bool required_bool(const OpcheckCall& call, const Json& block, const char* key) {
  if (find_key(call, block, key) == nullptr) fail(call, std::string("param ") + key + " is missing");
  return param_bool(call, block, key, false);
}

std::vector<std::int64_t> param_ints(const OpcheckCall& call, const Json& block, const char* key) {
  const Json* v = find_key(call, block, key);
  std::vector<std::int64_t> out;
  if (v == nullptr) return out;
  if (!v->is_array()) {
    out.push_back(as_int(call, *v, key));
    return out;
  }
  for (const Json& e : *v) out.push_back(as_int(call, e, key));
  return out;
}

const Json& param_block(const OpcheckCall& call, const char* key) {
  static const Json kEmpty = Json::object();
  const Json* v = find_key(call, call.param, key);
  if (v == nullptr) return kEmpty;
  if (!v->is_object()) fail(call, std::string("param ") + key + " is not an object");
  return *v;
}

bool is_floating(DType dtype) {
  return dtype == DType::Float32 || dtype == DType::Float16 || dtype == DType::BFloat16 || dtype == DType::Float64;
}

DType promote(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::Float64 || b == DType::Float64) return DType::Float64;
  const bool fa = is_floating(a);
  const bool fb = is_floating(b);
  if (fa && fb) return DType::Float32;  // fp16 with bf16 or either with fp32
  if (fa) return a;
  if (fb) return b;
  if (a == DType::Bool) return b;
  if (b == DType::Bool) return a;
  // Two different integer types: the wider one (torch's rule for same-signedness types).
  return dtype_size(a) >= dtype_size(b) ? a : b;
}

std::int64_t numel_of(const Shape& shape) {
  std::int64_t n = 1;
  for (const std::int64_t d : shape) n *= d;
  return n;
}

Shape strides_of(const Shape& shape) {
  Shape strides(shape.size(), 1);
  for (std::size_t i = shape.size(); i-- > 1;) strides[i - 1] = strides[i] * shape[i];
  return strides;
}

std::string shape_text(const Shape& shape) { return shape_to_json(shape); }

std::int64_t normalize_dim(const OpcheckCall& call, std::int64_t dim, std::size_t rank) {
  const auto r = static_cast<std::int64_t>(rank);
  if (dim < -r || dim >= r) fail(call, "dim " + std::to_string(dim) + " is out of range for rank " + std::to_string(r));
  return dim < 0 ? dim + r : dim;
}

namespace {

// Room for n floats in `v`, its large pages backed by transparent huge pages where the kernel
// offers them on request (madvise mode). An LLM layer's opcheck turns ~0.5 GB of fp16 into ~1 GB of
// fresh float buffers; at 4 KiB a page, faulting them in took more time than decoding and the
// GEMMs together (docs/benchmarks.md). Advice only: nothing changes where it is refused.
void reserve_floats(std::vector<float>& v, std::size_t n) {
  if (v.capacity() >= n) return;
  v = {};
  v.reserve(n);
#if defined(__linux__)
  constexpr std::uintptr_t kHuge = 2U << 20U;
  const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
  const std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);
  const std::uintptr_t last = (begin + n * sizeof(float)) & ~(kHuge - 1);
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#endif
}

}  // namespace

HostTensor make_tensor(DType dtype, Shape shape) {
  HostTensor t;
  t.dtype = dtype;
  const auto n = static_cast<std::size_t>(numel_of(shape));
  reserve_floats(t.values, n);
  t.values.assign(n, 0.0F);
  t.shape = std::move(shape);
  return t;
}

namespace {
#if defined(__x86_64__)
// Eight values at a time through the F16C conversions, which round to nearest even and overflow
// to inf exactly as the scalar _Float16 path (the baseline build has no F16C, so GCC calls a
// soft-float routine per value there: ~10 % of an LLM layer's opcheck).
__attribute__((target("avx,f16c"))) void round_half_f16c(float* v, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 x = _mm256_loadu_ps(v + i);
    _mm256_storeu_ps(v + i, _mm256_cvtph_ps(_mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)));
  }
  for (; i < n; ++i) v[i] = round_to_dtype(DType::Float16, v[i]);
}
#endif
}  // namespace

void round_values(HostTensor& tensor) {
  if (tensor.dtype == DType::Float32 || tensor.dtype == DType::Float64) return;
#if defined(__x86_64__)
  if (tensor.dtype == DType::Float16 && cpu_has_f16c()) {
    round_half_f16c(tensor.values.data(), tensor.values.size());
    return;
  }
#endif
  for (float& v : tensor.values) v = round_to_dtype(tensor.dtype, v);
}

HostTensor cast_to(const HostTensor& tensor, DType dtype) {
  HostTensor out = tensor;
  out.dtype = dtype;
  round_values(out);
  return out;
}

Shape broadcast_shapes(const OpcheckCall& call, const std::vector<const Shape*>& shapes) {
  std::size_t rank = 0;
  for (const Shape* s : shapes) rank = std::max(rank, s->size());
  Shape out(rank, 1);
  for (const Shape* s : shapes) {
    for (std::size_t i = 0; i < s->size(); ++i) {
      const std::int64_t d = (*s)[s->size() - 1 - i];
      std::int64_t& o = out[rank - 1 - i];
      if (d == o || d == 1) continue;
      if (o != 1) fail(call, "shapes " + shape_text(*shapes.front()) + " and " + shape_text(*s) + " do not broadcast");
      o = d;
    }
  }
  return out;
}

std::vector<std::int64_t> broadcast_index(const Shape& shape, const Shape& out_shape) {
  const std::size_t rank = out_shape.size();
  // Strides of `shape` aligned to the right of out_shape, 0 where the dim is broadcast.
  Shape src_strides(rank, 0);
  const Shape own = strides_of(shape);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::size_t o = rank - shape.size() + i;
    src_strides[o] = shape[i] == 1 ? 0 : own[i];
  }
  const std::int64_t n = numel_of(out_shape);
  std::vector<std::int64_t> index(static_cast<std::size_t>(n));
  Shape counter(rank, 0);
  std::int64_t flat = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    index[static_cast<std::size_t>(k)] = flat;
    for (std::size_t d = rank; d-- > 0;) {
      flat += src_strides[d];
      if (++counter[d] < out_shape[d]) break;
      flat -= src_strides[d] * out_shape[d];
      counter[d] = 0;
    }
  }
  return index;
}

std::int64_t int_at(const HostTensor& tensor, std::int64_t index) {
  return static_cast<std::int64_t>(tensor.values.at(static_cast<std::size_t>(index)));
}

}  // namespace opcheck
}  // namespace aitdb::compare

namespace aitdb::compare {

HostTensor host_tensor_from_bytes(const std::string& what, DType dtype, std::vector<std::int64_t> shape,
                                  std::span<const std::byte> bytes) {
  return host_tensor_from_bytes(what, dtype, std::move(shape), bytes, {});
}

HostTensor host_tensor_from_bytes(const std::string& what, DType dtype, std::vector<std::int64_t> shape,
                                  std::span<const std::byte> bytes, std::vector<float> storage) {
  if (dtype_info(dtype).is_complex || dtype == DType::Float8E4M3FN || dtype == DType::Float8E5M2) {
    throw FormatError(what, std::string("opcheck does not compute with ") + std::string(dtype_name(dtype)));
  }
  const auto nbytes = checked_nbytes(shape, dtype);
  if (!nbytes || *nbytes != bytes.size()) {
    throw FormatError(what, std::to_string(bytes.size()) + " bytes do not hold a " + std::string(dtype_name(dtype)) +
                                " tensor of shape " + shape_to_json(shape));
  }
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  const std::size_t n = bytes.size() / dtype_size(dtype);
  t.values = std::move(storage);
  opcheck::reserve_floats(t.values, n);
  t.values.resize(n);
  to_float(dtype, bytes.data(), n, t.values.data());
  if (dtype == DType::Int32 || dtype == DType::UInt32 || dtype == DType::Int64 || dtype == DType::UInt64) {
    t.exact_integers.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const std::byte* p = bytes.data() + i * dtype_size(dtype);
      switch (dtype) {
        case DType::Int32: {
          std::int32_t v = 0;
          std::memcpy(&v, p, 4);
          t.exact_integers[i] = v;
          break;
        }
        case DType::UInt32: {
          std::uint32_t v = 0;
          std::memcpy(&v, p, 4);
          t.exact_integers[i] = v;
          break;
        }
        default: std::memcpy(&t.exact_integers[i], p, 8); break;  // uint64 keeps its bit pattern
      }
    }
  }
  return t;
}

}  // namespace aitdb::compare
