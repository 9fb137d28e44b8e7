// RmsNormOperation and LayerNormOperation. Statistics are taken in float32 from the (rounded)
// input values, summed in double so long rows keep float32's last bit; the result is rounded once
// to the input's dtype.
#include <algorithm>
#include <cmath>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

constexpr std::int64_t kNorm = 1;
constexpr std::int64_t kPreNorm = 2;
constexpr std::int64_t kPostNorm = 3;

const char* layer_block_name(const OpcheckCall& call, std::int64_t layer_type) {
  switch (layer_type) {
    case kNorm: return "normParam";
    case kPreNorm: return "preNormParam";
    case kPostNorm: return "postNormParam";
    default: fail(call, "unknown layerType " + std::to_string(layer_type));
  }
}

// Row-wise vector of a per-channel tensor: `t` holds 1 value (broadcast) or `cols` values.
float channel(const OpcheckCall& call, const HostTensor& t, std::size_t c, std::size_t cols, const char* name) {
  if (t.numel() == cols) return t.values[c];
  if (t.numel() == 1) return t.values[0];
  fail(call, std::string(name) + " " + shape_text(t.shape) + " has neither 1 nor " + std::to_string(cols) + " elements");
}

// x0 + zoom * x1 (+ bias) rounded to x0's dtype: the residual sum the pre/post norms start from.
HostTensor residual_sum(const OpcheckCall& call, const HostTensor& x0, const HostTensor& x1, const HostTensor* bias,
                        float zoom) {
  HostTensor sum = map_binary(call, x0, x1, x0.dtype, [zoom](float a, float b) { return a + zoom * b; });
  if (bias != nullptr) sum = map_binary(call, sum, *bias, x0.dtype, [](float a, float b) { return a + b; });
  return sum;
}

std::size_t row_width(const OpcheckCall& call, const HostTensor& x) {
  if (x.shape.empty() || x.shape.back() == 0) fail(call, "input " + shape_text(x.shape) + " has no last dim to normalise");
  return static_cast<std::size_t>(x.shape.back());
}

struct RmsSpec {
  float epsilon = 1e-5F;
  bool gemma = false;         // modelType 1: gamma is stored as gamma - 1
  bool half_product = false;  // precisionMode 1: (x / rms) in fp16 times gamma in fp16
  bool with_rstd = false;
};

// y (float32, not rounded) and 1/rms per row.
struct RmsResult {
  HostTensor y;
  std::vector<float> rstd;
};

RmsResult rms_norm(const OpcheckCall& call, const HostTensor& x, const HostTensor& gamma, const RmsSpec& spec) {
  const std::size_t cols = row_width(call, x);
  const std::size_t rows = x.numel() / cols;
  RmsResult r{make_tensor(DType::Float32, x.shape), std::vector<float>(rows)};
  const auto inv_cols = 1.0F / static_cast<float>(cols);
  for (std::size_t i = 0; i < rows; ++i) {
    const float* row = x.values.data() + i * cols;
    double sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += static_cast<double>(row[c] * inv_cols * row[c]);
    const float rstd = 1.0F / std::sqrt(static_cast<float>(sum) + spec.epsilon);
    r.rstd[i] = rstd;
    for (std::size_t c = 0; c < cols; ++c) {
      float g = channel(call, gamma, c, cols, "gamma");
      if (spec.gemma) g += 1.0F;
      r.y.values[i * cols + c] = spec.half_product
                                     ? round_to_dtype(DType::Float16, row[c] * rstd) * round_to_dtype(DType::Float16, g)
                                     : row[c] * g * rstd;
    }
  }
  return r;
}

// int8 static quantisation: clamp(round((y + beta) / scale + offset), -128, 127).
HostTensor quantize_int8(const OpcheckCall& call, const HostTensor& y, const HostTensor& beta, const HostTensor& scale,
                         const HostTensor& offset) {
  const std::size_t cols = row_width(call, y);
  HostTensor q = make_tensor(DType::Int8, y.shape);
  for (std::size_t i = 0; i < y.numel(); ++i) {
    const std::size_t c = i % cols;
    const float v = (y.values[i] + channel(call, beta, c, cols, "beta")) / channel(call, scale, c, cols, "scale") +
                    channel(call, offset, c, cols, "offset");
    q.values[i] = std::clamp(std::nearbyint(v), -128.0F, 127.0F);
  }
  return q;
}

}  // namespace

std::vector<HostTensor> rms_norm_golden(const OpcheckCall& call) {
  const std::int64_t layer_type = required_int(call, call.param, "layerType");
  const Json& block = param_block(call, layer_block_name(call, layer_type));
  const std::int64_t quant_type = param_int(call, block, "quantType", 0);
  if (quant_type != 0 && quant_type != 2) fail(call, "RmsNorm quantType " + std::to_string(quant_type) + " is not supported");
  if (param_int(call, block, "dynamicQuantType", 0) != 0) fail(call, "RmsNorm dynamic quantisation is not supported");
  const bool quant = quant_type == 2;
  RmsSpec spec;
  spec.epsilon = static_cast<float>(param_double(call, block, "epsilon", 1e-5));
  spec.gemma = param_int(call, block, "modelType", 0) == 1;
  spec.half_product = param_int(call, block, "precisionMode", 0) == 1;
  spec.with_rstd = param_bool(call, block, "rstd", false);

  std::vector<HostTensor> out;
  if (layer_type == kNorm) {
    require_inputs(call, quant ? 5 : 2);
    const HostTensor& x = call.inputs[0];
    RmsResult r = rms_norm(call, x, call.inputs[1], spec);
    if (quant) return one(quantize_int8(call, r.y, call.inputs[2], call.inputs[3], call.inputs[4]));
    HostTensor y = cast_to(r.y, x.dtype);
    out.push_back(std::move(y));
    if (spec.with_rstd) {
      Shape rstd_shape = x.shape;
      rstd_shape.back() = 1;
      HostTensor rstd = make_tensor(DType::Float32, rstd_shape);
      rstd.values = std::move(r.rstd);
      out.push_back(std::move(rstd));
    }
    return out;
  }
  const bool has_bias = param_bool(call, block, "hasBias", false);
  const std::size_t norm_inputs = 3 + (has_bias ? 1 : 0);
  require_inputs(call, norm_inputs + (quant ? 3 : 0));
  const HostTensor& x0 = call.inputs[0];
  const HostTensor sum = residual_sum(call, x0, call.inputs[1], has_bias ? &call.inputs[2] : nullptr, 1.0F);
  RmsResult r = rms_norm(call, sum, call.inputs[norm_inputs - 1], spec);
  if (quant) {
    out.push_back(quantize_int8(call, r.y, call.inputs[norm_inputs], call.inputs[norm_inputs + 1],
                                call.inputs[norm_inputs + 2]));
  } else {
    out.push_back(cast_to(r.y, x0.dtype));
  }
  if (layer_type == kPreNorm) out.push_back(sum);
  return out;
}

namespace {

// Layer norm of x over its trailing dims from `axis`, with gamma/beta over the same dims.
HostTensor layer_norm(const OpcheckCall& call, const HostTensor& x, const HostTensor& gamma, const HostTensor& beta,
                      std::int64_t axis, float epsilon) {
  const std::int64_t begin = normalize_dim(call, axis, x.shape.size());
  std::size_t cols = 1;
  for (std::size_t d = static_cast<std::size_t>(begin); d < x.shape.size(); ++d) cols *= static_cast<std::size_t>(x.shape[d]);
  if (cols == 0) fail(call, "nothing to normalise in " + shape_text(x.shape));
  const std::size_t rows = x.numel() / cols;
  HostTensor y = make_tensor(x.dtype, x.shape);
  for (std::size_t i = 0; i < rows; ++i) {
    const float* row = x.values.data() + i * cols;
    double sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += row[c];
    const auto mean = static_cast<float>(sum / static_cast<double>(cols));
    double sq = 0;
    for (std::size_t c = 0; c < cols; ++c) sq += static_cast<double>((row[c] - mean) * (row[c] - mean));
    const auto var = static_cast<float>(sq / static_cast<double>(cols));
    const float rstd = 1.0F / std::sqrt(var + epsilon);
    for (std::size_t c = 0; c < cols; ++c) {
      const float v = (row[c] - mean) * rstd * channel(call, gamma, c, cols, "gamma") + channel(call, beta, c, cols, "beta");
      y.values[i * cols + c] = round_to_dtype(x.dtype, v);
    }
  }
  return y;
}

}  // namespace

std::vector<HostTensor> layer_norm_golden(const OpcheckCall& call) {
  const std::int64_t layer_type = required_int(call, call.param, "layerType");
  const Json& block = param_block(call, layer_block_name(call, layer_type));
  const std::int64_t quant_type = param_int(call, block, "quantType", -1);
  if (quant_type != -1 && quant_type != 0) fail(call, "LayerNorm quantType " + std::to_string(quant_type) + " is not supported");
  if (param_int(call, block, "dynamicQuantType", 0) != 0) fail(call, "LayerNorm dynamic quantisation is not supported");
  const auto epsilon = static_cast<float>(param_double(call, block, "epsilon", 1e-5));
  if (layer_type == kNorm) {
    require_inputs(call, 3);
    return one(layer_norm(call, call.inputs[0], call.inputs[1], call.inputs[2], param_int(call, block, "beginNormAxis", 0), epsilon));
  }
  require_inputs(call, 4);
  const auto zoom = static_cast<float>(param_double(call, block, "zoomScaleValue", 1.0));
  const HostTensor sum = residual_sum(call, call.inputs[0], call.inputs[1], nullptr, zoom);
  std::vector<HostTensor> out = one(layer_norm(call, sum, call.inputs[2], call.inputs[3], -1, epsilon));
  if (layer_type == kPreNorm) out.push_back(sum);
  return out;
}

}  // namespace aitdb::compare::opcheck
