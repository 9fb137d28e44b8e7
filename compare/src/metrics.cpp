#include "aitdb/compare/metrics.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace aitdb::compare {
namespace {

using ArrayF = Eigen::Array<float, Eigen::Dynamic, 1>;
using MapF = Eigen::Map<const ArrayF>;

// Reductions run over fixed-size blocks: Eigen vectorises the element-wise float32 work, and each
// block's partial sum is added in double, which keeps long tensors within float32's last bit of
// PyTorch's cascade summation.
constexpr Eigen::Index kBlock = 8192;

template <typename F>
void for_blocks(std::size_t n, F&& f) {
  for (std::size_t off = 0; off < n; off += kBlock) {
    f(static_cast<Eigen::Index>(off), static_cast<Eigen::Index>(std::min<std::size_t>(kBlock, n - off)));
  }
}

double round10(double x) {
  // Python round(x, 10): format to 10 decimals, read back.
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10f", x);
  return std::strtod(buf, nullptr);
}

bool all_finite(std::span<const float> v) {
  bool ok = true;
  for_blocks(v.size(), [&](Eigen::Index off, Eigen::Index n) {
    if (ok) ok = MapF(v.data() + off, n).isFinite().all();
  });
  return ok;
}

}  // namespace

double cosine_similarity(std::span<const float> g, std::span<const float> m) {
  double gg = 0, mm = 0, gm = 0;
  for_blocks(g.size(), [&](Eigen::Index off, Eigen::Index n) {
    const auto a = MapF(g.data() + off, n).cast<double>();
    const auto b = MapF(m.data() + off, n).cast<double>();
    gg += (a * a).sum();
    mm += (b * b).sum();
    gm += (a * b).sum();
  });
  if (gg == 0 && mm == 0) return 1.0;
  // torch.cosine_similarity(eps=1e-8): each vector divided by its own clamped norm.
  const double ng = std::max(std::sqrt(gg), 1e-8);
  const double nm = std::max(std::sqrt(mm), 1e-8);
  return round10(gm / (ng * nm));
}

double kl_divergence(std::span<const float> g, std::span<const float> m) {
  // KL(softmax(g) || softmax(m)) = sum p_i (log p_i - log q_i), max-subtracted log-softmax.
  const MapF G(g.data(), static_cast<Eigen::Index>(g.size()));
  const MapF M(m.data(), static_cast<Eigen::Index>(m.size()));
  const double gmax = G.maxCoeff();
  const double mmax = M.maxCoeff();
  double gsum = 0, msum = 0;
  for_blocks(g.size(), [&](Eigen::Index off, Eigen::Index n) {
    gsum += (G.segment(off, n).cast<double>() - gmax).exp().sum();
    msum += (M.segment(off, n).cast<double>() - mmax).exp().sum();
  });
  const double lse_g = gmax + std::log(gsum);
  const double lse_m = mmax + std::log(msum);
  double kl = 0;
  for_blocks(g.size(), [&](Eigen::Index off, Eigen::Index n) {
    const auto logp = G.segment(off, n).cast<double>() - lse_g;
    const auto logq = M.segment(off, n).cast<double>() - lse_m;
    const Eigen::ArrayXd p = logp.exp();
    // Terms whose float32 probability underflows to 0 contribute nothing (F.kl_div).
    kl += (p > static_cast<double>(std::numeric_limits<float>::denorm_min())).select(p * (logp - logq), 0.0).sum();
  });
  return static_cast<double>(static_cast<float>(std::max(kl, 0.0)));
}

double relative_euclidean_distance(std::span<const float> g, std::span<const float> m) {
  double s = 0, d = 0;
  for_blocks(g.size(), [&](Eigen::Index off, Eigen::Index n) {
    const auto a = MapF(g.data() + off, n);
    const auto b = MapF(m.data() + off, n);
    s += (a * a).cast<double>().sum();
    d += ((b - a) * (b - a)).cast<double>().sum();
  });
  const auto sf = static_cast<float>(s);
  if (std::sqrt(sf) <= kEps32) return 0.0;
  return static_cast<double>(std::sqrt(static_cast<float>(d) / sf));
}

PairResult compare_values(std::span<const float> golden, std::span<const float> my, const MetricSelection& sel) {
  PairResult r;
  // compare.md §1.3: all three checks run, messages joined by single spaces.
  std::string reason;
  const auto add = [&](const char* msg) { reason += (reason.empty() ? "" : " ") + std::string(msg); };
  if (golden.size() != my.size()) add("data shape doesn't match.");
  if (!all_finite(golden)) add("golden_data includes NAN or inf.");
  if (!all_finite(my)) add("my_data includes NAN or inf.");
  // msit crashes on empty tensors (quirk 5); the recommended fix is a failed row.
  if (reason.empty() && golden.empty()) add("empty tensor");
  if (!reason.empty()) {
    r.fail_reason = reason;
    return r;
  }
  const std::size_t n = golden.size();
  const MapF G(golden.data(), static_cast<Eigen::Index>(n));
  const MapF M(my.data(), static_cast<Eigen::Index>(n));

  // Element-wise errors in float32, as PyTorch computes them; golden magnitudes <= eps32 are masked
  // to 0 (and still count in the mean's denominator).
  float max_rel = 0, max_abs = 0;
  double sum_rel = 0, sum_abs = 0;
  double eucl = 0, one_k = 0, five_k = 0, probe_max_rel = 0;
  for_blocks(n, [&](Eigen::Index off, Eigen::Index len) {
    const auto g = G.segment(off, len);
    const auto m = M.segment(off, len);
    const auto mask = g.abs() > kEps32;
    const ArrayF rel = mask.select((m / g - 1.0F).abs(), 0.0F);
    const ArrayF abs = mask.select((m - g).abs(), 0.0F);
    max_rel = std::max(max_rel, rel.maxCoeff());
    max_abs = std::max(max_abs, abs.maxCoeff());
    sum_rel += rel.cast<double>().sum();
    sum_abs += abs.cast<double>().sum();
    if (sel.msprobe) {
      // msprobe: float64, golden zeros shifted by eps64 on both sides.
      const Eigen::ArrayXd gd = g.cast<double>();
      const Eigen::ArrayXd md = m.cast<double>();
      const double e64 = std::numeric_limits<double>::epsilon();
      const Eigen::ArrayXd gz = (gd == 0).select(gd + e64, gd);
      const Eigen::ArrayXd mz = (gd == 0).select(md + e64, md);
      const Eigen::ArrayXd prel = ((mz - gz) / gz).abs();
      probe_max_rel = std::max(probe_max_rel, prel.maxCoeff());
      one_k += (prel < 0.001).cast<double>().sum();
      five_k += (prel < 0.005).cast<double>().sum();
      eucl += (md - gd).square().sum();
    }
  });
  MsitMetrics mm;
  if (sel.msit) {
    mm.cosine_similarity = cosine_similarity(golden, my);
    mm.max_relative_error = max_rel;
    mm.mean_relative_error = static_cast<float>(sum_rel / static_cast<double>(n));
    mm.max_absolute_error = max_abs;
    mm.mean_absolute_error = static_cast<float>(sum_abs / static_cast<double>(n));
    mm.kl_divergence = kl_divergence(golden, my);
    mm.relative_euclidean_distance = relative_euclidean_distance(golden, my);
    r.msit = mm;
  }
  if (sel.msprobe) {
    MsprobeMetrics p;
    double gg = 0, mm2 = 0, gm = 0;
    for_blocks(n, [&](Eigen::Index off, Eigen::Index len) {
      const auto a = G.segment(off, len).cast<double>();
      const auto b = M.segment(off, len).cast<double>();
      gg += (a * a).sum();
      mm2 += (b * b).sum();
      gm += (a * b).sum();
    });
    const double e64 = std::numeric_limits<double>::epsilon();
    const double ng = std::sqrt(gg), nm = std::sqrt(mm2);
    if (ng <= e64 && nm <= e64) {
      p.cosine = 1.0;
    } else if (ng > e64 && nm > e64) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.12f", gm / (ng * nm));
      double c = std::strtod(buf, nullptr);
      if (c > 0.9999) {
        std::snprintf(buf, sizeof buf, "%.6f", c);
        c = std::strtod(buf, nullptr);
      }
      p.cosine = c;
    }
    p.euc_dist = std::sqrt(eucl);
    p.max_abs_err = (M - G).cast<double>().abs().maxCoeff();
    p.max_relative_err = probe_max_rel;
    p.one_thousandth_err_ratio = one_k / static_cast<double>(n);
    p.five_thousandths_err_ratio = five_k / static_cast<double>(n);
    const double cos = p.cosine.value_or(std::numeric_limits<double>::quiet_NaN());
    const bool no = (cos < 0.99 && p.max_abs_err > 0.001) || cos < 0.9 || p.max_abs_err > 1;
    p.accuracy_reached = no ? "No" : "Yes";
    r.msprobe = p;
  }
  return r;
}

}  // namespace aitdb::compare
