// ActivationOperation, selected by activationType. Every function is evaluated in float32 and
// rounded once to the input's dtype.
#include <cmath>
#include <numbers>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

float sigmoid(float x) { return 1.0F / (1.0F + std::exp(-x)); }

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654F;
  return 0.5F * x * (1.0F + std::tanh(kSqrt2OverPi * (x + 0.044715F * x * x * x)));
}

float gelu_erf(float x) { return 0.5F * x * (1.0F + std::erf(x * static_cast<float>(std::numbers::sqrt2 / 2))); }

// x * sigmoid(1.702 x), written so that neither exp overflows.
float fast_gelu(float x) {
  const float a = std::abs(x);
  return x * std::exp(0.851F * (x - a)) / (1.0F + std::exp(-1.702F * a));
}

// The two halves of x along dim: a = first half, b = second half, as (outer, half, inner) blocks.
struct Halves {
  std::int64_t outer = 1;
  std::int64_t half = 0;
  std::int64_t inner = 1;
  Shape out_shape;
};

Halves split_halves(const OpcheckCall& call, const HostTensor& x, std::int64_t dim_param) {
  const std::int64_t dim = normalize_dim(call, dim_param, x.shape.size());
  if (x.shape[dim] % 2 != 0) fail(call, "SwiGLU dim " + std::to_string(dim) + " of " + shape_text(x.shape) + " is odd");
  Halves h;
  for (std::int64_t i = 0; i < dim; ++i) h.outer *= x.shape[i];
  for (std::size_t i = dim + 1; i < x.shape.size(); ++i) h.inner *= x.shape[i];
  h.half = x.shape[dim] / 2;
  h.out_shape = x.shape;
  h.out_shape[dim] = h.half;
  return h;
}

std::vector<HostTensor> swiglu_forward(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const Halves h = split_halves(call, x, param_int(call, call.param, "dim", -1));
  HostTensor out = make_tensor(x.dtype, h.out_shape);
  std::size_t o = 0;
  for (std::int64_t i = 0; i < h.outer; ++i) {
    const float* a = x.values.data() + i * 2 * h.half * h.inner;
    const float* b = a + h.half * h.inner;
    for (std::int64_t j = 0; j < h.half * h.inner; ++j) out.values[o++] = round_to_dtype(x.dtype, a[j] * sigmoid(a[j]) * b[j]);
  }
  return one(std::move(out));
}

// Gradient of silu(a) * b with respect to x = [a, b] given the output gradient g:
// d/da = g * b * sigmoid(a) * (1 + a * (1 - sigmoid(a))), d/db = g * silu(a).
std::vector<HostTensor> swiglu_backward(const OpcheckCall& call) {
  require_inputs(call, 2);
  const HostTensor& grad = call.inputs[0];
  const HostTensor& x = call.inputs[1];
  const Halves h = split_halves(call, x, param_int(call, call.param, "dim", -1));
  if (grad.shape != h.out_shape) fail(call, "gradient " + shape_text(grad.shape) + " does not match half of x " + shape_text(x.shape));
  HostTensor out = make_tensor(x.dtype, x.shape);
  for (std::int64_t i = 0; i < h.outer; ++i) {
    const std::int64_t base = i * 2 * h.half * h.inner;
    for (std::int64_t j = 0; j < h.half * h.inner; ++j) {
      const float a = x.values[base + j];
      const float b = x.values[base + h.half * h.inner + j];
      const float g = grad.values[i * h.half * h.inner + j];
      const float s = sigmoid(a);
      out.values[base + j] = round_to_dtype(x.dtype, g * b * s * (1.0F + a * (1.0F - s)));
      out.values[base + h.half * h.inner + j] = round_to_dtype(x.dtype, g * a * s);
    }
  }
  return one(std::move(out));
}

}  // namespace

std::vector<HostTensor> activation_golden(const OpcheckCall& call) {
  const std::int64_t type = required_int(call, call.param, "activationType");
  const auto unary = [&](auto f) {
    require_inputs(call, 1);
    return one(map_unary(call.inputs[0], call.inputs[0].dtype, f));
  };
  switch (type) {
    case 1: return unary([](float x) { return x > 0 ? x : 0.0F; });
    case 2: {
      const std::int64_t mode = param_int(call, call.param, "geluMode", 0);
      if (mode == 0) return unary(gelu_tanh);
      if (mode == 1) return unary(gelu_erf);
      fail(call, "unknown geluMode " + std::to_string(mode));
    }
    case 3: return unary(fast_gelu);
    case 4: {
      const auto scale = static_cast<float>(param_double(call, call.param, "scale", 1.0));
      return unary([scale](float x) { return x / (1.0F + std::exp(-x * scale)); });
    }
    case 5: return unary([](float x) { return std::log(x); });
    case 6: return swiglu_forward(call);
    case 7: return swiglu_backward(call);
    default: fail(call, "unknown activationType " + std::to_string(type));
  }
}

}  // namespace aitdb::compare::opcheck
