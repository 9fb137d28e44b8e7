// SoftmaxOperation: softmax over the dims listed in `axes` (contiguous; one dim in practice),
// max-subtracted, in float32, rounded to the input's dtype.
#include <algorithm>
#include <cmath>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {

std::vector<HostTensor> softmax_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  std::vector<std::int64_t> axes = param_ints(call, call.param, "axes");
  if (axes.empty()) fail(call, "param axes is missing");
  for (std::int64_t& a : axes) a = normalize_dim(call, a, x.shape.size());
  std::sort(axes.begin(), axes.end());
  if (axes.back() - axes.front() + 1 != static_cast<std::int64_t>(axes.size())) fail(call, "axes are not contiguous");
  std::int64_t outer = 1;
  std::int64_t reduce = 1;
  std::int64_t inner = 1;
  for (std::int64_t d = 0; d < static_cast<std::int64_t>(x.shape.size()); ++d) {
    (d < axes.front() ? outer : d <= axes.back() ? reduce : inner) *= x.shape[d];
  }
  HostTensor y = make_tensor(x.dtype, x.shape);
  std::vector<float> e(static_cast<std::size_t>(reduce));
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      const std::int64_t base = o * reduce * inner + i;
      float mx = -INFINITY;
      for (std::int64_t r = 0; r < reduce; ++r) mx = std::max(mx, x.values[base + r * inner]);
      double sum = 0;
      for (std::int64_t r = 0; r < reduce; ++r) {
        e[r] = std::exp(x.values[base + r * inner] - mx);
        sum += e[r];
      }
      const auto total = static_cast<float>(sum);
      for (std::int64_t r = 0; r < reduce; ++r) y.values[base + r * inner] = round_to_dtype(x.dtype, e[r] / total);
    }
  }
  return one(std::move(y));
}

}  // namespace aitdb::compare::opcheck
