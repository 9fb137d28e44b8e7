#pragma once
// Helpers shared by the opcheck kernels: typed param access, input checks, shapes and rounding.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aitdb/compare/opcheck_kernels.h"
#include "aitdb/schema/errors.h"

namespace aitdb::compare::opcheck {

using Json = nlohmann::json;
using Shape = std::vector<std::int64_t>;

[[noreturn]] void fail(const OpcheckCall& call, const std::string& reason);

// Inputs: throws unless min <= count <= max.
void require_inputs(const OpcheckCall& call, std::size_t min, std::size_t max);
inline void require_inputs(const OpcheckCall& call, std::size_t exact) { require_inputs(call, exact, exact); }

// Params. `block` is the object the key lives in (the param itself or a nested block such as
// normParam). required_* throw when the key is absent; all throw when it has the wrong type.
std::int64_t param_int(const OpcheckCall& call, const Json& block, const char* key, std::int64_t fallback);
std::int64_t required_int(const OpcheckCall& call, const Json& block, const char* key);
double param_double(const OpcheckCall& call, const Json& block, const char* key, double fallback);
bool param_bool(const OpcheckCall& call, const Json& block, const char* key, bool fallback);
bool required_bool(const OpcheckCall& call, const Json& block, const char* key);
std::vector<std::int64_t> param_ints(const OpcheckCall& call, const Json& block, const char* key);
// A nested object ({} when absent).
const Json& param_block(const OpcheckCall& call, const char* key);

bool is_floating(DType dtype);
// The dtype torch gives a binary arithmetic result of a and b.
DType promote(DType a, DType b);

std::int64_t numel_of(const Shape& shape);
Shape strides_of(const Shape& shape);
std::string shape_text(const Shape& shape);
// A dim index in [-rank, rank) made non-negative; throws otherwise.
std::int64_t normalize_dim(const OpcheckCall& call, std::int64_t dim, std::size_t rank);

HostTensor make_tensor(DType dtype, Shape shape);
// Rounds every value to the tensor's dtype.
void round_values(HostTensor& tensor);
HostTensor cast_to(const HostTensor& tensor, DType dtype);

// Numpy broadcasting of several shapes; throws when they do not broadcast.
Shape broadcast_shapes(const OpcheckCall& call, const std::vector<const Shape*>& shapes);
// For each element of `out_shape`, the flat index into a tensor of `shape` broadcast to it.
std::vector<std::int64_t> broadcast_index(const Shape& shape, const Shape& out_shape);

// Value at flat index of an integer tensor (lengths, offsets, indices).
std::int64_t int_at(const HostTensor& tensor, std::int64_t index);

// out[i] = round(f(x[i])) in out_dtype; f computes in float32.
template <typename F>
HostTensor map_unary(const HostTensor& x, DType out_dtype, F&& f) {
  HostTensor out = make_tensor(out_dtype, x.shape);
  for (std::size_t i = 0; i < x.numel(); ++i) out.values[i] = round_to_dtype(out_dtype, f(x.values[i]));
  return out;
}

// out = round(f(a, b)) over the broadcast shape of a and b.
template <typename F>
HostTensor map_binary(const OpcheckCall& call, const HostTensor& a, const HostTensor& b, DType out_dtype, F&& f) {
  if (a.shape == b.shape) {
    HostTensor out = make_tensor(out_dtype, a.shape);
    for (std::size_t i = 0; i < a.numel(); ++i) out.values[i] = round_to_dtype(out_dtype, f(a.values[i], b.values[i]));
    return out;
  }
  HostTensor out = make_tensor(out_dtype, broadcast_shapes(call, {&a.shape, &b.shape}));
  const auto ia = broadcast_index(a.shape, out.shape);
  const auto ib = broadcast_index(b.shape, out.shape);
  for (std::size_t i = 0; i < out.numel(); ++i) {
    out.values[i] = round_to_dtype(out_dtype, f(a.values[static_cast<std::size_t>(ia[i])], b.values[static_cast<std::size_t>(ib[i])]));
  }
  return out;
}

inline std::vector<HostTensor> one(HostTensor t) {
  std::vector<HostTensor> out;
  out.push_back(std::move(t));
  return out;
}

// Per-row int8 dynamic quantisation of x (ElewiseOperation type 19, the norms' dynamic quant):
// returns q, scale and, when asymmetric, offset.
std::vector<HostTensor> dynamic_quant(const OpcheckCall& call, const HostTensor& x, bool asymmetric);

// Kernels, one per ATB operation type (registry in opcheck_registry.cpp).
std::vector<HostTensor> linear_golden(const OpcheckCall& call);
std::vector<HostTensor> matmul_golden(const OpcheckCall& call);
std::vector<HostTensor> elewise_golden(const OpcheckCall& call);
std::vector<HostTensor> activation_golden(const OpcheckCall& call);
std::vector<HostTensor> rms_norm_golden(const OpcheckCall& call);
std::vector<HostTensor> layer_norm_golden(const OpcheckCall& call);
std::vector<HostTensor> softmax_golden(const OpcheckCall& call);
std::vector<HostTensor> rope_golden(const OpcheckCall& call);
std::vector<HostTensor> self_attention_golden(const OpcheckCall& call);
std::vector<HostTensor> paged_attention_golden(const OpcheckCall& call);
std::vector<HostTensor> concat_golden(const OpcheckCall& call);
std::vector<HostTensor> slice_golden(const OpcheckCall& call);
std::vector<HostTensor> split_golden(const OpcheckCall& call);
std::vector<HostTensor> gather_golden(const OpcheckCall& call);
std::vector<HostTensor> transpose_golden(const OpcheckCall& call);
std::vector<HostTensor> as_strided_golden(const OpcheckCall& call);
std::vector<HostTensor> repeat_golden(const OpcheckCall& call);
std::vector<HostTensor> cumsum_golden(const OpcheckCall& call);
std::vector<HostTensor> reduce_golden(const OpcheckCall& call);
std::vector<HostTensor> where_golden(const OpcheckCall& call);
std::vector<HostTensor> fill_golden(const OpcheckCall& call);
std::vector<HostTensor> sort_golden(const OpcheckCall& call);
std::vector<HostTensor> reshape_and_cache_golden(const OpcheckCall& call);
std::vector<HostTensor> kv_cache_golden(const OpcheckCall& call);

}  // namespace aitdb::compare::opcheck
