// LinearOperation and the deprecated MatmulOperation: y = x @ W (+ bias) (* deq_scale).
// The product accumulates in float32 (Eigen's GEMM), as the NPU's cube unit and torch do for
// fp16/bf16/fp32 inputs; the result is then rounded to the output dtype before the bias is added
// in that dtype, which is what torch's `x @ w + bias` does for half tensors.
#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>

#include "gemm.h"
#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

// ATB stores 4-D weights as [d0, d1, d2, d3] blocks: transpose(1, 2), merge the last two dims and
// drop a leading 1, giving a 2-D (or batched 3-D) matrix.
HostTensor weight_as_matrix(const HostTensor& w) {
  const auto [d0, d1, d2, d3] = std::array{w.shape[0], w.shape[1], w.shape[2], w.shape[3]};
  HostTensor out = make_tensor(w.dtype, d0 == 1 ? Shape{d2, d1 * d3} : Shape{d0, d2, d1 * d3});
  std::size_t o = 0;
  for (std::int64_t a = 0; a < d0; ++a) {
    for (std::int64_t c = 0; c < d2; ++c) {
      for (std::int64_t b = 0; b < d1; ++b) {
        const auto* src = w.values.data() + ((a * d1 + b) * d2 + c) * d3;
        std::copy_n(src, d3, out.values.data() + o);
        o += static_cast<std::size_t>(d3);
      }
    }
  }
  return out;
}

// The float32 a deq_scale element stands for: the low 32 bits of its integer value.
float deq_scale_at(const HostTensor& deq, std::size_t i) {
  if (deq.dtype == DType::Float32) return deq.values[i];
  const std::int64_t bits =
      deq.exact_integers.empty() ? static_cast<std::int64_t>(deq.values[i]) : deq.exact_integers[i];
  return std::bit_cast<float>(static_cast<std::uint32_t>(static_cast<std::uint64_t>(bits) & 0xFFFFFFFFU));
}

struct LinearSpec {
  bool transpose_a = false;
  bool transpose_b = true;
  bool has_bias = false;
  std::int64_t out_data_type = -1;  // aclDataType: 1 fp16, 27 bf16, -1 same as x
  bool force_half = false;          // MatmulOperation: result .half()
};

std::vector<HostTensor> linear(const OpcheckCall& call, const LinearSpec& spec) {
  require_inputs(call, 2, 4);
  const HostTensor& x = call.inputs[0];
  // Only 4-D weights are rearranged; a 2-D/3-D weight (hundreds of MB at LLM sizes) is used in place.
  std::optional<HostTensor> rearranged;
  if (call.inputs[1].shape.size() == 4) rearranged = weight_as_matrix(call.inputs[1]);
  const HostTensor& w = rearranged ? *rearranged : call.inputs[1];
  const std::size_t extra = call.inputs.size() - 2;
  if (spec.has_bias && extra == 0) fail(call, "hasBias is set but there is no bias input");
  const HostTensor* bias = spec.has_bias ? &call.inputs[2] : nullptr;
  const HostTensor* deq = extra > (spec.has_bias ? 1U : 0U) ? &call.inputs[call.inputs.size() - 1] : nullptr;
  if (extra > (spec.has_bias ? 2U : 1U)) fail(call, "too many inputs for hasBias=" + std::to_string(spec.has_bias));

  if (x.shape.size() < 2 || x.shape.size() > 3) fail(call, "x must be 2-D or 3-D, got " + shape_text(x.shape));
  if (w.shape.size() < 2 || w.shape.size() > 3)
    fail(call, "weight must be 2-D to 4-D, got " + shape_text(call.inputs[1].shape));
  const std::int64_t batch = x.shape.size() == 3 ? x.shape[0] : 1;
  const std::int64_t x_rows = x.shape[x.shape.size() - 2];
  const std::int64_t x_cols = x.shape.back();
  const std::int64_t m = spec.transpose_a ? x_cols : x_rows;
  const std::int64_t k = spec.transpose_a ? x_rows : x_cols;
  const std::int64_t w_rows = w.shape[w.shape.size() - 2];
  const std::int64_t w_cols = w.shape.back();
  const std::int64_t wk = spec.transpose_b ? w_cols : w_rows;
  const std::int64_t n = spec.transpose_b ? w_rows : w_cols;
  const std::int64_t w_batch = w.shape.size() == 3 ? w.shape[0] : 1;
  if (wk != k) fail(call, "x " + shape_text(x.shape) + " and weight " + shape_text(w.shape) + " do not multiply");
  if (w_batch != 1 && w_batch != batch)
    fail(call, "weight batch " + std::to_string(w_batch) + " != x batch " + std::to_string(batch));

  Shape out_shape = x.shape.size() == 3 ? Shape{batch, m, n} : Shape{m, n};
  DType out_dtype = x.dtype == DType::Int8 ? DType::Float32 : x.dtype;
  if (spec.force_half) out_dtype = DType::Float16;
  HostTensor y = make_tensor(DType::Float32, out_shape);
  if (!spec.transpose_a && w_batch == 1) {
    // One GEMM over every row of every batch.
    gemm(GemmOperand{x.values.data(), batch * m, k, false},
         GemmOperand{w.values.data(), w_rows, w_cols, spec.transpose_b}, y.values.data());
  } else {
    for (std::int64_t b = 0; b < batch; ++b) {
      const float* xb = x.values.data() + b * x_rows * x_cols;
      const float* wb = w.values.data() + (w_batch == 1 ? 0 : b * w_rows * w_cols);
      gemm(GemmOperand{xb, x_rows, x_cols, spec.transpose_a}, GemmOperand{wb, w_rows, w_cols, spec.transpose_b},
           y.values.data() + b * m * n);
    }
  }
  // x @ w in the input's dtype first (int8 products stay float32), then bias in that dtype.
  y.dtype = is_floating(x.dtype) ? x.dtype : DType::Float32;
  round_values(y);
  const std::size_t rows = y.numel() / static_cast<std::size_t>(n);
  if (bias != nullptr) {
    if (bias->numel() != static_cast<std::size_t>(n))
      fail(call, "bias " + shape_text(bias->shape) + " does not have n=" + std::to_string(n) + " elements");
    y.dtype = promote(y.dtype, bias->dtype);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::int64_t j = 0; j < n; ++j) y.values[r * n + j] += bias->values[j];
    }
    round_values(y);
  }
  if (deq != nullptr) {
    if (deq->numel() != static_cast<std::size_t>(n) && deq->numel() != 1)
      fail(call, "deq_scale " + shape_text(deq->shape) + " does not have n=" + std::to_string(n) + " elements");
    y.dtype = promote(y.dtype, DType::Float32);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::int64_t j = 0; j < n; ++j) y.values[r * n + j] *= deq_scale_at(*deq, deq->numel() == 1 ? 0 : j);
    }
  }
  if (spec.out_data_type == 1)
    out_dtype = DType::Float16;
  else if (spec.out_data_type == 27)
    out_dtype = DType::BFloat16;
  else if (!spec.force_half)
    out_dtype = y.dtype;
  y.dtype = out_dtype;
  round_values(y);
  std::vector<HostTensor> out;
  out.push_back(std::move(y));
  return out;
}

}  // namespace

std::vector<HostTensor> linear_golden(const OpcheckCall& call) {
  LinearSpec spec;
  spec.transpose_a = required_bool(call, call.param, "transposeA");
  spec.transpose_b = required_bool(call, call.param, "transposeB");
  spec.has_bias = param_bool(call, call.param, "hasBias", false);
  spec.out_data_type = param_int(call, call.param, "outDataType", -1);
  return linear(call, spec);
}

std::vector<HostTensor> matmul_golden(const OpcheckCall& call) {
  LinearSpec spec;
  spec.transpose_a = required_bool(call, call.param, "transposeA");
  spec.transpose_b = required_bool(call, call.param, "transposeB");
  spec.force_half = true;
  require_inputs(call, 2);
  return linear(call, spec);
}

}  // namespace aitdb::compare::opcheck
