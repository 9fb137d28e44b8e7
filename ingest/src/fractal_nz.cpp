// FRACTAL_NZ → ND. Each host row of one column block is W0 contiguous device elements, so the
// conversion copies runs of up to W0 elements rather than single ones.
#include "fractal_nz.h"

#include <algorithm>
#include <cstring>

#include "aitdb/schema/dtype.h"

namespace aitdb::ingest {

std::string fractal_nz_to_nd(std::span<const std::byte> src, std::span<const std::int64_t> device_shape,
                             std::span<const std::int64_t> host_shape, std::size_t itemsize,
                             std::vector<std::byte>& dst) {
  const std::size_t dn = device_shape.size();
  if (dn < 4) return "FRACTAL_NZ device shape " + shape_to_json(device_shape) + " has fewer than 4 dims";
  const auto dev_numel = checked_numel(device_shape);
  if (!dev_numel || *dev_numel * itemsize != src.size()) return "FRACTAL_NZ device bytes do not match the device shape";
  const auto w1 = static_cast<std::uint64_t>(device_shape[dn - 4]);
  const auto h1 = static_cast<std::uint64_t>(device_shape[dn - 3]);
  const auto h0 = static_cast<std::uint64_t>(device_shape[dn - 2]);
  const auto w0 = static_cast<std::uint64_t>(device_shape[dn - 1]);
  const auto dev_batch = checked_numel(device_shape.first(dn - 4));

  std::vector<std::int64_t> host(host_shape.begin(), host_shape.end());
  while (host.size() < 2) host.insert(host.begin(), 1);
  const auto hn = host.size();
  const auto rows = static_cast<std::uint64_t>(host[hn - 2]);
  const auto cols = static_cast<std::uint64_t>(host[hn - 1]);
  const auto times = checked_numel(std::span<const std::int64_t>(host).first(hn - 2));
  if (!checked_numel(host) || !times) return "FRACTAL_NZ original shape " + shape_to_json(host_shape) + " is invalid";
  // The products below cannot overflow: each is bounded by the device element count.
  if (*dev_batch != *times || h1 * h0 < rows || w1 * w0 < cols) {
    return "FRACTAL_NZ device shape " + shape_to_json(device_shape) + " cannot hold original shape " +
           shape_to_json(host_shape);
  }
  dst.assign(*times * rows * cols * itemsize, std::byte{0});
  if (dst.empty()) return "";
  const std::uint64_t block = h1 * h0 * w0;  // elements of one column block
  for (std::uint64_t t = 0; t < *times; ++t) {
    for (std::uint64_t h = 0; h < rows; ++h) {
      std::byte* out_row = dst.data() + ((t * rows + h) * cols) * itemsize;
      for (std::uint64_t wb = 0; wb * w0 < cols; ++wb) {
        const std::uint64_t run = std::min(w0, cols - wb * w0);
        const std::uint64_t from = t * w1 * block + wb * block + h * w0;
        std::memcpy(out_row + wb * w0 * itemsize, src.data() + from * itemsize, run * itemsize);
      }
    }
  }
  return "";
}

}  // namespace aitdb::ingest
