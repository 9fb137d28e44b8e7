#include "aitdb/schema/stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "clone_for_avx2.h"

namespace aitdb {
namespace {

constexpr std::size_t kBlock = kStatsPieceElems;  // scalars converted per step
constexpr std::size_t kLanes = 8;                 // independent accumulators the compiler turns into vectors

// Running moments of finite values, combined block by block (Chan et al.) so the variance stays
// accurate without a second pass over the whole tensor.
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

struct Block {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  std::uint64_t nan = 0, inf = 0, zero = 0;
  double n = 0, mean = 0, m2 = 0, sumsq = 0;
};

// Exact per-element path, used when a block holds NaN or inf.
template <typename T>
Block block_slow(const T* v, std::size_t ns) {
  Block b;
  double sum = 0;
  for (std::size_t i = 0; i < ns; ++i) {
    const double x = v[i];
    if (std::isnan(x)) {
      ++b.nan;
      continue;
    }
    b.min = std::min(b.min, x);
    b.max = std::max(b.max, x);
    if (std::isinf(x)) {
      ++b.inf;
      continue;
    }
    b.zero += x == 0.0 ? 1 : 0;
    sum += x;
    b.sumsq += x * x;
    b.n += 1;
  }
  if (b.n > 0) {
    b.mean = sum / b.n;
    for (std::size_t i = 0; i < ns; ++i) {
      const double x = v[i];
      if (std::isfinite(x)) b.m2 += (x - b.mean) * (x - b.mean);
    }
  }
  return b;
}

// Lane-parallel path for finite blocks: every loop body is independent per lane, so it vectorises
// without reassociating floating-point sums (which the compiler may not do on its own).
template <typename T>
AITDB_CLONE_FOR_AVX2 Block block_fast(const T* v, std::size_t ns) {
  std::array<double, kLanes> sum{}, sq{}, mn{}, mx{};
  std::array<std::uint64_t, kLanes> zero{};
  mn.fill(std::numeric_limits<double>::infinity());
  mx.fill(-std::numeric_limits<double>::infinity());
  const std::size_t full = ns - ns % kLanes;
  for (std::size_t i = 0; i < full; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double x = static_cast<double>(v[i + l]);
      sum[l] += x;
      sq[l] += x * x;
      mn[l] = x < mn[l] ? x : mn[l];
      mx[l] = x > mx[l] ? x : mx[l];
      zero[l] += x == 0.0 ? 1 : 0;
    }
  }
  for (std::size_t i = full; i < ns; ++i) {
    const double x = static_cast<double>(v[i]);
    sum[0] += x;
    sq[0] += x * x;
    mn[0] = std::min(mn[0], x);
    mx[0] = std::max(mx[0], x);
    zero[0] += x == 0.0 ? 1 : 0;
  }
  Block b;
  double s = 0;
  for (std::size_t l = 0; l < kLanes; ++l) {
    s += sum[l];
    b.sumsq += sq[l];
    b.min = std::min(b.min, mn[l]);
    b.max = std::max(b.max, mx[l]);
    b.zero += zero[l];
  }
  if (!std::isfinite(s) || !std::isfinite(b.sumsq)) return block_slow(v, ns);  // NaN or inf inside
  b.n = static_cast<double>(ns);
  b.mean = ns > 0 ? s / b.n : 0;
  // Population M2 from the block's own mean: no cancellation, since values sit near it.
  std::array<double, kLanes> m2{};
  for (std::size_t i = 0; i < full; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) {
      const double d = static_cast<double>(v[i + l]) - b.mean;
      m2[l] += d * d;
    }
  }
  for (std::size_t i = full; i < ns; ++i) {
    const double d = static_cast<double>(v[i]) - b.mean;
    m2[0] += d * d;
  }
  for (const double x : m2) b.m2 += x;
  return b;
}

}  // namespace

StatsAccumulator::StatsAccumulator(DType t) : dtype_(t) {}

void StatsAccumulator::add(const std::byte* data, std::size_t numel) {
  const DType t = dtype_;
  const std::size_t item = dtype_size(t);
  const bool complex = dtype_info(t).is_complex;
  // Half-precision, fp32 and small integers convert exactly to float, which halves the memory
  // traffic of the conversion buffer; everything else goes through double.
  const bool via_float = t == DType::Float16 || t == DType::BFloat16 || t == DType::Float32 || t == DType::Int8 ||
                         t == DType::UInt8 || t == DType::Int16 || t == DType::UInt16 || t == DType::Bool ||
                         t == DType::Float8E4M3FN || t == DType::Float8E5M2;
  const std::size_t elems_per_block = complex ? kBlock / 2 : kBlock;
  std::array<float, kBlock> fbuf{};
  std::array<double, kBlock> dbuf{};
  Moments mom{n_, mean_, m2_, sumsq_};
  for (std::size_t e = 0; e < numel; e += elems_per_block) {
    const std::size_t ne = std::min(elems_per_block, numel - e);
    const std::size_t ns = scalar_count(t, ne);
    Block b;
    if (via_float) {
      to_float(t, data + e * item, ne, fbuf.data());
      b = block_fast(fbuf.data(), ns);
    } else {
      to_double(t, data + e * item, ne, dbuf.data());
      b = block_fast(dbuf.data(), ns);
    }
    if (b.nan < ns) any_non_nan_ = true;
    min_ = std::min(min_, b.min);
    max_ = std::max(max_, b.max);
    mom.merge(b.n, b.mean, b.m2, b.sumsq);
    stats_.nan_count += b.nan;
    stats_.inf_count += b.inf;
    stats_.zero_count += b.zero;
  }
  n_ = mom.n;
  mean_ = mom.mean;
  m2_ = mom.m2;
  sumsq_ = mom.sumsq;
}

TensorStats StatsAccumulator::result() const {
  TensorStats s = stats_;
  if (any_non_nan_) {
    s.min = min_;
    s.max = max_;
  }
  if (n_ > 0) {
    s.mean = mean_;
    s.std = std::sqrt(m2_ / n_);
    s.l2norm = std::sqrt(sumsq_);
  }
  return s;
}

TensorStats compute_stats(DType t, const std::byte* data, std::size_t numel) {
  StatsAccumulator acc(t);
  acc.add(data, numel);
  return acc.result();
}

}  // namespace aitdb
