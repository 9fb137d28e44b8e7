// ElewiseOperation: element-wise arithmetic, comparisons, casts and (de)quantisation, selected by
// elewiseType. Arithmetic runs in float32 and each result is rounded once to the output dtype
// (torch's half arithmetic on CPU and NPU does the same per operation).
#include <algorithm>
#include <cmath>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

// torch.round: halves to even.
float round_half_even(float v) { return std::nearbyint(v); }

constexpr float kHalfMax = 65504.0F;

float clamp_int8(float v) { return std::clamp(v, -128.0F, 127.0F); }

// Per-channel tensors (scale, offset) broadcast against x; an empty tensor counts as absent.
const HostTensor* optional_input(const OpcheckCall& call, std::size_t index) {
  return index < call.inputs.size() && call.inputs[index].numel() > 0 ? &call.inputs[index] : nullptr;
}

std::vector<HostTensor> cast(const OpcheckCall& call) {
  require_inputs(call, 1);
  std::int64_t code = param_int(call, call.param, "outTensorType", -1);
  if (code < 0) code = param_int(call, call.param, "OutTensorType", -1);
  const auto dtype = dtype_from_acl_code(static_cast<int>(code));
  if (code < 0 || !dtype) fail(call, "CAST needs outTensorType (an aclDataType code), got " + std::to_string(code));
  return one(cast_to(call.inputs[0], *dtype));
}

std::vector<HostTensor> quant_per_channel(const OpcheckCall& call) {
  require_inputs(call, 2, 3);
  const HostTensor& x = call.inputs[0];
  HostTensor scaled = map_binary(call, x, call.inputs[1], DType::Float32, [](float v, float s) { return round_half_even(v / s); });
  if (const HostTensor* offset = optional_input(call, 2)) {
    scaled = map_binary(call, scaled, *offset, DType::Float32, [](float v, float o) { return v + o; });
  }
  return one(map_unary(scaled, DType::Int8, clamp_int8));
}

std::vector<HostTensor> dequant_per_channel(const OpcheckCall& call) {
  require_inputs(call, 2, 3);
  const auto clamp_half = [](float v) { return std::clamp(v, -kHalfMax, kHalfMax); };
  const HostTensor& y = call.inputs[0];
  const HostTensor& scale = call.inputs[1];
  if (const HostTensor* offset = optional_input(call, 2)) {
    const HostTensor shifted = map_binary(call, y, *offset, DType::Float32, [](float v, float o) { return v - o; });
    return one(map_binary(call, shifted, scale, DType::Float16, [&](float v, float s) { return clamp_half(v * s); }));
  }
  return one(map_binary(call, y, scale, DType::Float16, [&](float v, float s) { return clamp_half(v * s); }));
}

}  // namespace

// Per row (last dim): symmetric int8 quantisation q = round(x * 127 / max|x|) with scale =
// max|x| / 127, or asymmetric with scale = (max - min) / 255 and offset = -(max + min) / (2 scale),
// q = round(clamp(x / scale + offset, -128, 127)). Returns q, scale (fp32) and, when asymmetric,
// offset (fp32); scale and offset have x's shape without its last dim.
std::vector<HostTensor> dynamic_quant(const OpcheckCall& call, const HostTensor& x, bool asymmetric) {
  if (x.shape.empty()) fail(call, "dynamic quant needs at least 1-D input");
  const auto cols = static_cast<std::size_t>(x.shape.back());
  const std::size_t rows = cols == 0 ? 0 : x.numel() / cols;
  Shape row_shape(x.shape.begin(), x.shape.end() - 1);
  HostTensor q = make_tensor(DType::Int8, x.shape);
  HostTensor scale = make_tensor(DType::Float32, row_shape);
  HostTensor offset = make_tensor(DType::Float32, row_shape);
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x.values.data() + r * cols;
    const auto [lo, hi] = std::minmax_element(row, row + cols);
    if (!asymmetric) {
      float amax = 0;
      for (std::size_t c = 0; c < cols; ++c) amax = std::max(amax, std::abs(row[c]));
      scale.values[r] = amax / 127.0F;
      for (std::size_t c = 0; c < cols; ++c) {
        q.values[r * cols + c] = amax == 0 ? 0.0F : clamp_int8(round_half_even(row[c] * 127.0F / amax));
      }
    } else {
      const float s = (*hi - *lo) / 255.0F;
      const float o = s == 0 ? 0.0F : -(*hi + *lo) / (2.0F * s);
      scale.values[r] = s;
      offset.values[r] = o;
      for (std::size_t c = 0; c < cols; ++c) {
        q.values[r * cols + c] = s == 0 ? 0.0F : round_half_even(clamp_int8(row[c] / s + o));
      }
    }
  }
  std::vector<HostTensor> out;
  out.push_back(std::move(q));
  out.push_back(std::move(scale));
  if (asymmetric) out.push_back(std::move(offset));
  return out;
}

std::vector<HostTensor> elewise_golden(const OpcheckCall& call) {
  const std::int64_t type = required_int(call, call.param, "elewiseType");
  const auto unary = [&](auto f) {
    require_inputs(call, 1);
    return one(map_unary(call.inputs[0], call.inputs[0].dtype, f));
  };
  const auto binary = [&](auto f) {
    require_inputs(call, 2);
    const DType dtype = promote(call.inputs[0].dtype, call.inputs[1].dtype);
    return one(map_binary(call, call.inputs[0], call.inputs[1], dtype, f));
  };
  const auto logical = [&](auto f) {
    require_inputs(call, 2);
    return one(map_binary(call, call.inputs[0], call.inputs[1], DType::Int8,
                          [&](float a, float b) { return f(a, b) ? 1.0F : 0.0F; }));
  };
  switch (type) {
    case 1: return cast(call);
    case 2: {
      const Json& muls = param_block(call, "mulsParam");
      const double var_attr = param_double(call, muls, "varAttr", param_double(call, call.param, "varAttr", 0.0));
      return unary([v = static_cast<float>(var_attr)](float x) { return x * v; });
    }
    case 3: return unary([](float x) { return std::cos(x); });
    case 4: return unary([](float x) { return std::sin(x); });
    case 5: return unary([](float x) { return -x; });
    case 6: require_inputs(call, 1); return one(cast_to(call.inputs[0], DType::Int8));
    case 7: require_inputs(call, 1); return one(map_unary(call.inputs[0], DType::Int8, [](float x) { return x == 0 ? 1.0F : 0.0F; }));
    case 8: return binary([](float a, float b) { return a + b; });
    case 9: return binary([](float a, float b) { return a * b; });
    case 10: {
      require_inputs(call, 2);
      // True division: integer operands give float32.
      DType dtype = promote(call.inputs[0].dtype, call.inputs[1].dtype);
      if (!is_floating(dtype)) dtype = DType::Float32;
      return one(map_binary(call, call.inputs[0], call.inputs[1], dtype, [](float a, float b) { return a / b; }));
    }
    case 11: return logical([](float a, float b) { return a != 0 && b != 0; });
    case 12: return logical([](float a, float b) { return a != 0 || b != 0; });
    case 13: return logical([](float a, float b) { return a < b; });
    case 14: return logical([](float a, float b) { return a > b; });
    case 15: return binary([](float a, float b) { return a - b; });
    case 16: return logical([](float a, float b) { return a == b; });
    case 17: return quant_per_channel(call);
    case 18: return dequant_per_channel(call);
    case 19: {
      require_inputs(call, 1);
      const bool asymmetric = param_bool(call, param_block(call, "quantParam"), "asymmetric", false);
      return dynamic_quant(call, call.inputs[0], asymmetric);
    }
    case 20: return unary([](float x) { return std::tanh(x); });
    default: fail(call, "unknown elewiseType " + std::to_string(type));
  }
}

}  // namespace aitdb::compare::opcheck
