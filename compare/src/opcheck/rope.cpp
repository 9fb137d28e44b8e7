// RopeOperation: rotary position embedding of q (in0) and k (in1) with per-token cos (in2) and
// sin (in3); in4 (sequence lengths) only groups tokens into batches, which does not change a
// per-token rotation, so it is checked for count but otherwise unused. Computed in float32,
// rounded once to q's/k's dtype.
//   rotaryCoeff 2 (default): per head, t * cos + rotate_half(t) * sin, rotate_half(t) =
//     cat(-t[second half], t[first half]);
//   rotaryCoeff 4: each half of the head rotated as above with its own half of cos/sin;
//   rotaryCoeff == head size (64 in ATB's models): interleaved pairs (t0, t1) -> (t0 cos - t1 sin,
//     t1 cos + t0 sin), cos/sin read at the pair's even position.
#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

// Rows of t: every dim but the last for 2-D/3-D tensors, the first two for 4-D [b, s, heads, d].
std::int64_t token_rows(const OpcheckCall& call, const HostTensor& t) {
  if (t.shape.size() < 2 || t.shape.size() > 4) fail(call, "rope input must be 2-D to 4-D, got " + shape_text(t.shape));
  if (t.shape.size() == 4) return t.shape[0] * t.shape[1];
  return numel_of(t.shape) / t.shape.back();
}

HostTensor rotate(const OpcheckCall& call, const HostTensor& t, const HostTensor& cos, const HostTensor& sin,
                  std::int64_t coeff) {
  const std::int64_t head = cos.shape.back();
  const std::int64_t cos_rows = numel_of(cos.shape) / head;
  const std::int64_t rows = token_rows(call, t);
  const std::int64_t width = rows == 0 ? 0 : numel_of(t.shape) / rows;
  if (head == 0 || width % head != 0) fail(call, "row width " + std::to_string(width) + " is not a multiple of head size " + std::to_string(head));
  if (cos_rows == 0 || rows % cos_rows != 0) fail(call, "cos " + shape_text(cos.shape) + " does not cover " + std::to_string(rows) + " tokens");
  const bool interleaved = coeff == head && coeff != 2 && coeff != 4;
  const std::int64_t part = coeff == 4 ? head / 2 : head;  // span rotated as one unit
  if ((interleaved && head % 2 != 0) || (!interleaved && part % 2 != 0)) fail(call, "head size " + std::to_string(head) + " cannot be rotated with rotaryCoeff " + std::to_string(coeff));
  if (!interleaved && coeff != 2 && coeff != 4) fail(call, "unsupported rotaryCoeff " + std::to_string(coeff));
  HostTensor out = make_tensor(t.dtype, t.shape);
  for (std::int64_t r = 0; r < rows; ++r) {
    const float* c = cos.values.data() + (r % cos_rows) * head;
    const float* s = sin.values.data() + (r % cos_rows) * head;
    for (std::int64_t h0 = 0; h0 < width; h0 += head) {
      const float* x = t.values.data() + r * width + h0;
      float* y = out.values.data() + r * width + h0;
      if (interleaved) {
        for (std::int64_t i = 0; i < head; i += 2) {
          y[i] = round_to_dtype(t.dtype, x[i] * c[i] - x[i + 1] * s[i]);
          y[i + 1] = round_to_dtype(t.dtype, x[i + 1] * c[i] + x[i] * s[i]);
        }
        continue;
      }
      for (std::int64_t p0 = 0; p0 < head; p0 += part) {
        const std::int64_t half = part / 2;
        for (std::int64_t i = 0; i < part; ++i) {
          const float rotated = i < half ? -x[p0 + i + half] : x[p0 + i - half];
          y[p0 + i] = round_to_dtype(t.dtype, x[p0 + i] * c[p0 + i] + rotated * s[p0 + i]);
        }
      }
    }
  }
  return out;
}

}  // namespace

std::vector<HostTensor> rope_golden(const OpcheckCall& call) {
  const std::int64_t coeff = required_int(call, call.param, "rotaryCoeff");
  require_inputs(call, 4, 5);
  const HostTensor& cos = call.inputs[2];
  const HostTensor& sin = call.inputs[3];
  if (cos.shape != sin.shape || cos.shape.empty()) fail(call, "cos " + shape_text(cos.shape) + " and sin " + shape_text(sin.shape) + " differ");
  std::vector<HostTensor> out;
  out.push_back(rotate(call, call.inputs[0], cos, sin, coeff));
  out.push_back(rotate(call, call.inputs[1], cos, sin, coeff));
  return out;
}

}  // namespace aitdb::compare::opcheck
