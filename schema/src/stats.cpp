#include "aitdb/schema/stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace aitdb {
namespace {

// Running moments of finite values, combined block by block (Chan et al.) so the variance stays
// accurate without a second pass over the data.
struct Moments {
  double n = 0;
  double mean = 0;
  double m2 = 0;
  double sumsq = 0;

  void merge(double bn, double bmean, double bm2, double bsumsq) {
    if (bn == 0) return;
    const double total = n + bn;
    const double delta = bmean - mean;
    mean += delta * bn / total;
    m2 += bm2 + delta * delta * n * bn / total;
    n = total;
    sumsq += bsumsq;
  }
};

}  // namespace

TensorStats compute_stats(DType t, const std::byte* data, std::size_t numel) {
  constexpr std::size_t kBlock = 4096;
  const std::size_t item = dtype_size(t);
  const bool complex = dtype_info(t).is_complex;
  // Elements per block chosen so the scalar buffer holds kBlock scalars.
  const std::size_t elems_per_block = complex ? kBlock / 2 : kBlock;
  std::array<double, kBlock> buf{};

  TensorStats s;
  double mn = std::numeric_limits<double>::infinity();
  double mx = -std::numeric_limits<double>::infinity();
  bool any_non_nan = false;
  Moments mom;

  for (std::size_t e = 0; e < numel; e += elems_per_block) {
    const std::size_t ne = std::min(elems_per_block, numel - e);
    to_double(t, data + e * item, ne, buf.data());
    const std::size_t ns = scalar_count(t, ne);
    double bsum = 0;
    double bsumsq = 0;
    double bn = 0;
    std::uint64_t nan = 0;
    std::uint64_t inf = 0;
    std::uint64_t zero = 0;
    for (std::size_t i = 0; i < ns; ++i) {
      const double v = buf[i];
      if (std::isnan(v)) {
        ++nan;
        continue;
      }
      any_non_nan = true;
      mn = std::min(mn, v);
      mx = std::max(mx, v);
      if (std::isinf(v)) {
        ++inf;
        continue;
      }
      zero += v == 0.0 ? 1 : 0;
      bsum += v;
      bsumsq += v * v;
      bn += 1;
    }
    double bm2 = 0;
    double bmean = 0;
    if (bn > 0) {
      bmean = bsum / bn;
      for (std::size_t i = 0; i < ns; ++i) {
        const double v = buf[i];
        if (std::isfinite(v)) bm2 += (v - bmean) * (v - bmean);
      }
    }
    mom.merge(bn, bmean, bm2, bsumsq);
    s.nan_count += nan;
    s.inf_count += inf;
    s.zero_count += zero;
  }
  if (any_non_nan) {
    s.min = mn;
    s.max = mx;
  }
  if (mom.n > 0) {
    s.mean = mom.mean;
    s.std = std::sqrt(mom.m2 / mom.n);
    s.l2norm = std::sqrt(mom.sumsq);
  }
  return s;
}

}  // namespace aitdb
