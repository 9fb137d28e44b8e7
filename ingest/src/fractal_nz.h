#pragma once
// FRACTAL_NZ → ND (row-major) conversion of GE dump tensors. Internal to ingest.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace aitdb::ingest {

// Device shape [..., W1, H1, H0, W0] holds a host tensor [..., H, W] as W1 column blocks, each of
// H1*H0 rows of W0 elements (rows and columns padded up to whole blocks). Host element (t, h, w),
// t indexing the flattened leading dims, sits at device element
//   t*W1*H1*H0*W0 + (w / W0)*H1*H0*W0 + h*W0 + (w % W0).
// A 0-D host tensor is [1, 1] and a 1-D one [1, n]. src must hold the whole device tensor.
// Returns "" with dst filled, or the reason the two shapes do not describe an NZ tensor.
std::string fractal_nz_to_nd(std::span<const std::byte> src, std::span<const std::int64_t> device_shape,
                             std::span<const std::int64_t> host_shape, std::size_t itemsize,
                             std::vector<std::byte>& dst);

}  // namespace aitdb::ingest
