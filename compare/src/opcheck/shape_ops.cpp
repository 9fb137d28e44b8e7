// Data-movement and reduction operations: Concat, Slice, Split, Gather, Transpose, AsStrided,
// Repeat, Cumsum, Reduce, Where, Fill, Sort. Values are copied exactly; sums accumulate in
// double (torch's CPU accumulation type for float) and are rounded once to the dtype.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "kernel_support.h"

namespace aitdb::compare::opcheck {
namespace {

// out[i] = src.values[source_index(counter)] for every multi-index `counter` of out's shape, in
// row-major order.
template <typename SourceIndex>
HostTensor gather_elements(const HostTensor& src, Shape out_shape, SourceIndex&& source_index) {
  HostTensor out = make_tensor(src.dtype, std::move(out_shape));
  if (out.numel() == 0) return out;
  Shape counter(out.shape.size(), 0);
  for (std::size_t i = 0; i < out.numel(); ++i) {
    out.values[i] = src.values[static_cast<std::size_t>(source_index(counter))];
    for (std::size_t d = counter.size(); d-- > 0;) {
      if (++counter[d] < out.shape[d]) break;
      counter[d] = 0;
    }
  }
  return out;
}

// A box of src starting at `start` with extent `extent` (same rank).
HostTensor box(const HostTensor& src, const Shape& start, Shape extent) {
  const Shape strides = strides_of(src.shape);
  return gather_elements(src, std::move(extent), [&](const Shape& c) {
    std::int64_t flat = 0;
    for (std::size_t d = 0; d < c.size(); ++d) flat += (start[d] + c[d]) * strides[d];
    return flat;
  });
}

// (outer, dim, inner) sizes around `dim`.
std::array<std::int64_t, 3> around(const Shape& shape, std::int64_t dim) {
  std::int64_t outer = 1;
  std::int64_t inner = 1;
  for (std::int64_t d = 0; d < dim; ++d) outer *= shape[d];
  for (std::size_t d = dim + 1; d < shape.size(); ++d) inner *= shape[d];
  return {outer, shape[dim], inner};
}

}  // namespace

std::vector<HostTensor> concat_golden(const OpcheckCall& call) {
  require_inputs(call, 2, 64);
  const HostTensor& first = call.inputs[0];
  const std::int64_t dim = normalize_dim(call, param_int(call, call.param, "concatDim", 0), first.shape.size());
  Shape out_shape = first.shape;
  out_shape[dim] = 0;
  for (const HostTensor& t : call.inputs) {
    Shape a = t.shape;
    Shape b = first.shape;
    if (a.size() != b.size()) fail(call, "inputs " + shape_text(first.shape) + " and " + shape_text(t.shape) + " differ in rank");
    a[dim] = b[dim] = 0;
    if (a != b) fail(call, "inputs " + shape_text(first.shape) + " and " + shape_text(t.shape) + " differ outside concatDim");
    out_shape[dim] += t.shape[dim];
  }
  HostTensor out = make_tensor(first.dtype, out_shape);
  const auto [outer, total, inner] = around(out_shape, dim);
  std::int64_t at = 0;
  for (const HostTensor& t : call.inputs) {
    const std::int64_t part = t.shape[dim] * inner;
    for (std::int64_t o = 0; o < outer; ++o) {
      std::copy_n(t.values.data() + o * part, part, out.values.data() + o * total * inner + at);
    }
    at += part;
  }
  if (first.dtype != out.dtype) round_values(out);
  return one(std::move(out));
}

std::vector<HostTensor> slice_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  Shape offsets = param_ints(call, call.param, "offsets");
  Shape size = param_ints(call, call.param, "size");
  if (offsets.size() != x.shape.size() || size.size() != x.shape.size()) fail(call, "offsets and size must have one entry per dim of " + shape_text(x.shape));
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (offsets[d] < 0) offsets[d] += x.shape[d];
    if (size[d] == -1) size[d] = x.shape[d] - offsets[d];
    if (offsets[d] < 0 || size[d] < 0 || offsets[d] + size[d] > x.shape[d]) fail(call, "slice of dim " + std::to_string(d) + " is out of range");
  }
  return one(box(x, offsets, size));
}

std::vector<HostTensor> split_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const std::int64_t dim = normalize_dim(call, param_int(call, call.param, "splitDim", 0), x.shape.size());
  std::vector<std::int64_t> sizes = param_ints(call, call.param, "splitSizes");
  if (sizes.empty()) {
    // torch.chunk: pieces of ceil(n / splitNum), the last one shorter.
    const std::int64_t num = param_int(call, call.param, "splitNum", 2);
    if (num <= 0) fail(call, "splitNum must be positive");
    const std::int64_t piece = (x.shape[dim] + num - 1) / num;
    for (std::int64_t at = 0; at < x.shape[dim]; at += piece) sizes.push_back(std::min(piece, x.shape[dim] - at));
  } else if (std::accumulate(sizes.begin(), sizes.end(), std::int64_t{0}) != x.shape[dim]) {
    fail(call, "splitSizes do not add up to dim " + std::to_string(dim) + " of " + shape_text(x.shape));
  }
  std::vector<HostTensor> out;
  Shape start(x.shape.size(), 0);
  for (const std::int64_t s : sizes) {
    Shape extent = x.shape;
    extent[dim] = s;
    out.push_back(box(x, start, extent));
    start[dim] += s;
  }
  return out;
}

std::vector<HostTensor> gather_golden(const OpcheckCall& call) {
  require_inputs(call, 2);
  const HostTensor& x = call.inputs[0];
  const HostTensor& idx = call.inputs[1];
  const std::int64_t axis = normalize_dim(call, param_int(call, call.param, "axis", 0), x.shape.size());
  const std::int64_t batch_dims = param_int(call, call.param, "batchDims", 0);
  const auto index_at = [&](std::size_t i) {
    std::int64_t v = int_at(idx, static_cast<std::int64_t>(i));
    if (v < 0) v += x.shape[axis];
    if (v < 0 || v >= x.shape[axis]) fail(call, "index " + std::to_string(v) + " is out of range for dim " + std::to_string(x.shape[axis]));
    return v;
  };
  if (batch_dims == 0) {
    const auto [outer, dim, inner] = around(x.shape, axis);
    Shape out_shape(x.shape.begin(), x.shape.begin() + axis);
    out_shape.insert(out_shape.end(), idx.shape.begin(), idx.shape.end());
    out_shape.insert(out_shape.end(), x.shape.begin() + axis + 1, x.shape.end());
    HostTensor out = make_tensor(x.dtype, out_shape);
    const std::size_t n = idx.numel();
    for (std::int64_t o = 0; o < outer; ++o) {
      for (std::size_t i = 0; i < n; ++i) {
        std::copy_n(x.values.data() + (o * dim + index_at(i)) * inner, inner, out.values.data() + (o * n + i) * inner);
      }
    }
    return one(std::move(out));
  }
  // torch.gather: same rank, out[..., i_axis, ...] = x[..., idx[...], ...].
  if (idx.shape.size() != x.shape.size()) fail(call, "index " + shape_text(idx.shape) + " and x " + shape_text(x.shape) + " differ in rank");
  const Shape strides = strides_of(x.shape);
  std::size_t flat = 0;
  return one(gather_elements(x, idx.shape, [&](const Shape& c) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < c.size(); ++d) src += (static_cast<std::int64_t>(d) == axis ? index_at(flat) : c[d]) * strides[d];
    ++flat;
    return src;
  }));
}

std::vector<HostTensor> transpose_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const Shape perm = param_ints(call, call.param, "perm");
  if (perm.size() != x.shape.size()) fail(call, "perm must have one entry per dim of " + shape_text(x.shape));
  Shape sorted = perm;
  for (std::int64_t& p : sorted) p = normalize_dim(call, p, x.shape.size());
  Shape out_shape(perm.size());
  for (std::size_t d = 0; d < perm.size(); ++d) out_shape[d] = x.shape[sorted[d]];
  Shape check = sorted;
  std::sort(check.begin(), check.end());
  if (std::adjacent_find(check.begin(), check.end()) != check.end()) fail(call, "perm repeats a dim");
  const Shape strides = strides_of(x.shape);
  return one(gather_elements(x, out_shape, [&](const Shape& c) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < c.size(); ++d) src += c[d] * strides[sorted[d]];
    return src;
  }));
}

std::vector<HostTensor> as_strided_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const Shape size = param_ints(call, call.param, "size");
  const Shape stride = param_ints(call, call.param, "stride");
  const Shape offset = param_ints(call, call.param, "offset");
  if (size.size() != stride.size()) fail(call, "size and stride differ in length");
  const std::int64_t base = offset.empty() ? 0 : offset[0];
  std::int64_t last = base;
  for (std::size_t d = 0; d < size.size(); ++d) {
    if (size[d] < 0 || stride[d] < 0) fail(call, "negative size or stride");
    if (size[d] > 0) last += (size[d] - 1) * stride[d];
  }
  if (base < 0 || (numel_of(size) > 0 && last >= static_cast<std::int64_t>(x.numel()))) fail(call, "as_strided view reaches beyond the " + std::to_string(x.numel()) + " elements of x");
  return one(gather_elements(x, size, [&](const Shape& c) {
    std::int64_t src = base;
    for (std::size_t d = 0; d < c.size(); ++d) src += c[d] * stride[d];
    return src;
  }));
}

std::vector<HostTensor> repeat_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const Shape multiples = param_ints(call, call.param, "multiples");
  if (multiples.size() < x.shape.size()) fail(call, "multiples has fewer entries than x has dims");
  Shape in_shape(multiples.size() - x.shape.size(), 1);
  in_shape.insert(in_shape.end(), x.shape.begin(), x.shape.end());
  Shape out_shape(multiples.size());
  for (std::size_t d = 0; d < multiples.size(); ++d) {
    if (multiples[d] < 0) fail(call, "negative multiple");
    out_shape[d] = in_shape[d] * multiples[d];
  }
  const Shape strides = strides_of(in_shape);
  return one(gather_elements(x, out_shape, [&](const Shape& c) {
    std::int64_t src = 0;
    for (std::size_t d = 0; d < c.size(); ++d) src += (c[d] % in_shape[d]) * strides[d];
    return src;
  }));
}

std::vector<HostTensor> cumsum_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const Shape axes = param_ints(call, call.param, "axes");
  if (axes.empty()) fail(call, "param axes is missing");
  const std::int64_t axis = normalize_dim(call, axes[0], x.shape.size());
  const bool exclusive = param_bool(call, call.param, "exclusive", false);
  const bool reverse = param_bool(call, call.param, "reverse", false);
  const auto [outer, dim, inner] = around(x.shape, axis);
  HostTensor out = make_tensor(x.dtype, x.shape);
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t i = 0; i < inner; ++i) {
      double sum = 0;
      for (std::int64_t step = 0; step < dim; ++step) {
        const std::int64_t j = reverse ? dim - 1 - step : step;
        const std::size_t at = static_cast<std::size_t>((o * dim + j) * inner + i);
        if (exclusive) {
          out.values[at] = round_to_dtype(x.dtype, static_cast<float>(sum));
          sum += x.values[at];
        } else {
          sum += x.values[at];
          out.values[at] = round_to_dtype(x.dtype, static_cast<float>(sum));
        }
      }
    }
  }
  return one(std::move(out));
}

std::vector<HostTensor> reduce_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const std::int64_t type = required_int(call, call.param, "reduceType");
  if (type < 1 || type > 3) fail(call, "unknown reduceType " + std::to_string(type));
  Shape axes = param_ints(call, call.param, "axis");
  if (axes.empty()) fail(call, "param axis is missing");
  std::vector<bool> reduced(x.shape.size(), false);
  for (std::int64_t a : axes) reduced[normalize_dim(call, a, x.shape.size())] = true;
  Shape out_shape;
  for (std::size_t d = 0; d < x.shape.size(); ++d) {
    if (!reduced[d]) out_shape.push_back(x.shape[d]);
  }
  // Accumulators indexed by output element; x is walked once in order.
  std::vector<double> acc(static_cast<std::size_t>(numel_of(out_shape)),
                          type == 1 ? -INFINITY : type == 2 ? INFINITY : 0.0);
  const Shape out_strides = strides_of(out_shape);
  Shape counter(x.shape.size(), 0);
  for (std::size_t i = 0; i < x.numel(); ++i) {
    std::int64_t o = 0;
    for (std::size_t d = 0, od = 0; d < x.shape.size(); ++d) {
      if (!reduced[d]) o += counter[d] * out_strides[od++];
    }
    double& a = acc[static_cast<std::size_t>(o)];
    const double v = x.values[i];
    a = type == 1 ? std::max(a, v) : type == 2 ? std::min(a, v) : a + v;
    for (std::size_t d = counter.size(); d-- > 0;) {
      if (++counter[d] < x.shape[d]) break;
      counter[d] = 0;
    }
  }
  HostTensor out = make_tensor(x.dtype, out_shape);
  for (std::size_t i = 0; i < acc.size(); ++i) out.values[i] = round_to_dtype(x.dtype, static_cast<float>(acc[i]));
  return one(std::move(out));
}

std::vector<HostTensor> where_golden(const OpcheckCall& call) {
  require_inputs(call, 3);
  const HostTensor& cond = call.inputs[0];
  const HostTensor& a = call.inputs[1];
  const HostTensor& b = call.inputs[2];
  HostTensor out = make_tensor(promote(a.dtype, b.dtype), broadcast_shapes(call, {&cond.shape, &a.shape, &b.shape}));
  const auto ic = broadcast_index(cond.shape, out.shape);
  const auto ia = broadcast_index(a.shape, out.shape);
  const auto ib = broadcast_index(b.shape, out.shape);
  for (std::size_t i = 0; i < out.numel(); ++i) {
    out.values[i] = cond.values[ic[i]] != 0 ? a.values[ia[i]] : b.values[ib[i]];
  }
  round_values(out);
  return one(std::move(out));
}

std::vector<HostTensor> fill_golden(const OpcheckCall& call) {
  const Json* values = call.param.is_object() && call.param.contains("value") ? &call.param["value"] : nullptr;
  if (values == nullptr || (values->is_array() && values->empty())) fail(call, "param value is missing");
  const Json& first = values->is_array() ? values->front() : *values;
  if (!first.is_number()) fail(call, "param value is not a number: " + first.dump());
  const auto fill = first.get<float>();
  if (param_bool(call, call.param, "withMask", true)) {
    require_inputs(call, 2);
    const HostTensor& x = call.inputs[0];
    const HostTensor& mask = call.inputs[1];
    HostTensor out = make_tensor(x.dtype, x.shape);
    if (broadcast_shapes(call, {&x.shape, &mask.shape}) != x.shape) fail(call, "mask " + shape_text(mask.shape) + " does not broadcast to x " + shape_text(x.shape));
    const auto im = broadcast_index(mask.shape, x.shape);
    const float rounded = round_to_dtype(x.dtype, fill);
    for (std::size_t i = 0; i < x.numel(); ++i) out.values[i] = mask.values[im[i]] != 0 ? rounded : x.values[i];
    return one(std::move(out));
  }
  require_inputs(call, 0);
  const Shape out_dim = param_ints(call, call.param, "outDim");
  for (const std::int64_t d : out_dim) {
    if (d < 0) fail(call, "negative outDim");
  }
  HostTensor out = make_tensor(DType::Float16, out_dim);
  std::fill(out.values.begin(), out.values.end(), round_to_dtype(DType::Float16, fill));
  return one(std::move(out));
}

std::vector<HostTensor> sort_golden(const OpcheckCall& call) {
  require_inputs(call, 1);
  const HostTensor& x = call.inputs[0];
  const Shape num = param_ints(call, call.param, "num");
  if (num.empty()) fail(call, "param num is missing");
  if (x.shape.empty()) fail(call, "sort needs at least 1-D input");
  const std::int64_t cols = x.shape.back();
  const std::int64_t k = num[0];
  if (k < 0 || k > cols) fail(call, "num " + std::to_string(k) + " exceeds the last dim " + std::to_string(cols));
  const bool largest = param_bool(call, call.param, "largest", true);
  Shape out_shape = x.shape;
  out_shape.back() = k;
  HostTensor values = make_tensor(x.dtype, out_shape);
  HostTensor indices = make_tensor(DType::Int32, out_shape);
  const std::size_t rows = cols == 0 ? 0 : x.numel() / static_cast<std::size_t>(cols);
  std::vector<std::int64_t> order(static_cast<std::size_t>(cols));
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x.values.data() + r * cols;
    std::iota(order.begin(), order.end(), 0);
    // Ties keep the lower index first.
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return largest ? row[a] > row[b] : row[a] < row[b];
    });
    for (std::int64_t j = 0; j < k; ++j) {
      values.values[r * k + j] = row[order[j]];
      indices.values[r * k + j] = static_cast<float>(order[j]);
    }
  }
  std::vector<HostTensor> out;
  out.push_back(std::move(values));
  out.push_back(std::move(indices));
  return out;
}

}  // namespace aitdb::compare::opcheck
