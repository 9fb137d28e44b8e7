#include "aitdb/compare/metrics.h"

#include "aitdb/schema/dtype.h"

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
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

namespace {

// exp for float32 that vectorises: e^x = 2^n * P(r) with r = x - n ln2 in [-ln2/2, ln2/2] and P a
// degree-5 polynomial fitted for least maximum relative error (1.05e-7, so within 1.5 ulp
// measured over every float in [-87, 0]; PyTorch's vectorised expf is a 1-ulp method). Callers
// pass x = value - block max, so x <= 0 and only the underflow end needs a guard: x is clamped
// where 2^n stays a normal float and the result is zeroed below it.
[[gnu::always_inline]] inline float exp_nonpositive(float x) {
  constexpr float kLow = -87.3F;
  const float xc = std::max(x, kLow);
  // Round to nearest by the 1.5 * 2^23 trick: vectorises without SSE4.1's roundps.
  const float n = (xc * 1.44269504088896341F + 12582912.0F) - 12582912.0F;
  float r = xc - n * 0.693359375F;  // ln2 in two parts (Cody-Waite) keeps r exact
  r -= n * -2.12194440e-4F;
  float p = 0.00831253F;
  p = p * r + 0.04189011F;
  p = p * r + 0.16667114F;
  p = p * r + 0.49999232F;
  p = p * r * r + r + 1.0F;
  const auto scale = std::bit_cast<float>(static_cast<std::uint32_t>(static_cast<std::int32_t>(n) + 127) << 23U);
  return x < kLow ? 0.0F : p * scale;
}

// One fused pass: everything msit needs except the softmax sums. `omp simd` reductions let the
// compiler vectorise these loops (element-wise float32 operations are unchanged; only the order
// in which the double partial sums are added differs).
struct Pass1 {
  double gg = 0, mm = 0, gm = 0, dd = 0, sum_rel = 0, sum_abs = 0;
  float max_rel = 0, max_abs = 0, gmax = -INFINITY, mmax = -INFINITY;
  bool g_bad = false, m_bad = false;
};

// The kernels are written once (always_inline bodies) and compiled twice: for AVX2+FMA, which
// halves the instruction count of the exp polynomial, and for the x86-64 baseline. target_clones
// cannot express "avx2 and fma" in one clone, and an arch= clone stops GCC inlining std::max.
[[gnu::always_inline]] inline Pass1 pass1_body(const float* g, const float* m, std::size_t n) {
  // Cosine sums are float64 in msit; the others are float32 there, and callers pass one
  // 4096-element block at a time, so float block sums lose nothing msit keeps.
  double gg = 0, mm = 0, gm = 0;
  float dd = 0, sr = 0, sa = 0;
  float mr = 0, ma = 0, gx = -INFINITY, mx = -INFINITY;
#pragma omp simd reduction(+ : gg, mm, gm, dd, sr, sa) reduction(max : mr, ma, gx, mx)
  for (std::size_t i = 0; i < n; ++i) {
    const float a = g[i];
    const float b = m[i];
    const double ad = a, bd = b;
    gg += ad * ad;
    mm += bd * bd;
    gm += ad * bd;
    const float d = b - a;
    dd += d * d;
    const bool keep = std::fabs(a) > kEps32;
    const float rel = keep ? std::fabs(b / a - 1.0F) : 0.0F;
    const float abs = keep ? std::fabs(d) : 0.0F;
    mr = rel > mr ? rel : mr;
    ma = abs > ma ? abs : ma;
    sr += rel;
    sa += abs;
    gx = a > gx ? a : gx;
    mx = b > mx ? b : mx;
  }
  Pass1 r;
  r.gg = gg;
  r.mm = mm;
  r.gm = gm;
  r.dd = dd;
  r.sum_rel = sr;
  r.sum_abs = sa;
  r.max_rel = mr;
  r.max_abs = ma;
  r.gmax = gx;
  r.mmax = mx;
  // A square of a finite float is finite in double, and so is a block's sum of them: the sums
  // are NaN or inf exactly when a value is, so no per-element finiteness test is needed.
  r.g_bad = !std::isfinite(gg);
  r.m_bad = !std::isfinite(mm);
  return r;
}

// Softmax sums of one block relative to its own maxima, and T = sum exp(g - gmax) * (g - m), the
// numerator of the closed-form KL below.
struct SoftmaxBlock {
  float sg = 0, sm = 0, t = 0;
};

[[gnu::always_inline]] inline SoftmaxBlock softmax_body(const float* g, const float* m, std::size_t n, float gmax,
                                                       float mmax) {
  float sg = 0, sm = 0, t = 0;
#pragma omp simd reduction(+ : sg, sm, t)
  for (std::size_t i = 0; i < n; ++i) {
    const float eg = exp_nonpositive(g[i] - gmax);
    sg += eg;
    sm += exp_nonpositive(m[i] - mmax);
    t += eg * (g[i] - m[i]);
  }
  return {sg, sm, t};
}

#if defined(__x86_64__)
[[gnu::target("avx2,fma")]] Pass1 pass1_avx2(const float* g, const float* m, std::size_t n) {
  return pass1_body(g, m, n);
}
[[gnu::target("avx2,fma")]] SoftmaxBlock softmax_avx2(const float* g, const float* m, std::size_t n, float gmax,
                                                      float mmax) {
  return softmax_body(g, m, n, gmax, mmax);
}
const bool kAvx2Fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif

Pass1 pass1(const float* g, const float* m, std::size_t n) {
#if defined(__x86_64__)
  if (kAvx2Fma) return pass1_avx2(g, m, n);
#endif
  return pass1_body(g, m, n);
}

SoftmaxBlock softmax_block(const float* g, const float* m, std::size_t n, float gmax, float mmax) {
#if defined(__x86_64__)
  if (kAvx2Fma) return softmax_avx2(g, m, n, gmax, mmax);
#endif
  return softmax_body(g, m, n, gmax, mmax);
}

double cosine_from(double gg, double mm, double gm) {
  if (gg == 0 && mm == 0) return 1.0;
  // torch.cosine_similarity(eps=1e-8): each vector divided by its own clamped norm.
  return round10(gm / (std::max(std::sqrt(gg), 1e-8) * std::max(std::sqrt(mm), 1e-8)));
}

double red_from(double gg, double dd) {
  const auto sf = static_cast<float>(gg);
  if (std::sqrt(sf) <= kEps32) return 0.0;
  return static_cast<double>(std::sqrt(static_cast<float>(dd) / sf));
}

}  // namespace

namespace {

// Tensor bytes in memory, converted to float32 one L1-sized block at a time.
class MemorySource : public ValueSource {
 public:
  MemorySource(DType dtype, const std::byte* data, std::size_t numel) : dtype_(dtype), data_(data), numel_(numel) {}
  [[nodiscard]] std::size_t size() const override { return numel_; }
  void load(std::size_t off, std::size_t len, float* dst) override {
    to_float(dtype_, data_ + off * dtype_size(dtype_), len, dst);
  }

 private:
  DType dtype_;
  const std::byte* data_;
  std::size_t numel_;
};

constexpr std::size_t kBlockElems = 4096;

bool source_finite(ValueSource& s) {
  float buf[kBlockElems];
  for (std::size_t off = 0; off < s.size(); off += kBlockElems) {
    const std::size_t len = std::min(kBlockElems, s.size() - off);
    s.load(off, len, buf);
    if (!all_finite({buf, len})) return false;
  }
  return true;
}

// Online combination of per-block softmax sums: S = sum exp(x - M) for the running max M (and,
// for the golden side, T = sum exp(g - M) (g - m)), rescaled whenever M moves.
struct SoftmaxSum {
  double max = -INFINITY;
  double sum = 0;
  double t = 0;
  void add(double block_max, double block_sum, double block_t) {
    if (block_sum == 0) return;
    if (sum == 0) {
      max = block_max;
      sum = block_sum;
      t = block_t;
      return;
    }
    const double m = std::max(max, block_max);
    const double a = std::exp(max - m);
    const double b = std::exp(block_max - m);
    sum = sum * a + block_sum * b;
    t = t * a + block_t * b;
    max = m;
  }
  [[nodiscard]] double lse() const { return max + std::log(sum); }
};

PairResult msit_pass(ValueSource& gs, ValueSource& ms, const MetricSelection& sel) {
  PairResult r;
  std::string reason;
  const auto add = [&](const char* msg) { reason += (reason.empty() ? "" : " ") + std::string(msg); };
  const std::size_t n = gs.size();
  alignas(64) float gb[kBlockElems];
  alignas(64) float mb[kBlockElems];
  Pass1 p;
  SoftmaxSum sg, sm;
  if (gs.size() != ms.size()) {
    add("data shape doesn't match.");
    if (!source_finite(gs)) add("golden_data includes NAN or inf.");
    if (!source_finite(ms)) add("my_data includes NAN or inf.");
  } else {
    for (std::size_t off = 0; off < n; off += kBlockElems) {
      const std::size_t len = std::min(kBlockElems, n - off);
      gs.load(off, len, gb);
      ms.load(off, len, mb);
      const Pass1 b = pass1(gb, mb, len);
      p.gg += b.gg;
      p.mm += b.mm;
      p.gm += b.gm;
      p.dd += b.dd;
      p.sum_rel += b.sum_rel;
      p.sum_abs += b.sum_abs;
      p.max_rel = std::max(p.max_rel, b.max_rel);
      p.max_abs = std::max(p.max_abs, b.max_abs);
      p.gmax = std::max(p.gmax, b.gmax);
      p.mmax = std::max(p.mmax, b.mmax);
      p.g_bad = p.g_bad || b.g_bad;
      p.m_bad = p.m_bad || b.m_bad;
      if (sel.msit && !b.g_bad && !b.m_bad) {
        const SoftmaxBlock sb = softmax_block(gb, mb, len, b.gmax, b.mmax);  // while the block is in L1
        sg.add(b.gmax, sb.sg, sb.t);
        sm.add(b.mmax, sb.sm, 0);
      }
    }
    if (p.g_bad) add("golden_data includes NAN or inf.");
    if (p.m_bad) add("my_data includes NAN or inf.");
  }
  // msit crashes on empty tensors (quirk 5); the recommended fix is a failed row.
  if (reason.empty() && n == 0) add("empty tensor");
  if (!reason.empty()) {
    r.fail_reason = reason;
    return r;
  }
  if (sel.msit) {
    MsitMetrics mm;
    mm.cosine_similarity = cosine_from(p.gg, p.mm, p.gm);
    mm.max_relative_error = p.max_rel;
    // Means are float32 results in msit: the double sum is rounded once, at the end.
    mm.mean_relative_error = static_cast<float>(p.sum_rel / static_cast<double>(n));
    mm.max_absolute_error = p.max_abs;
    mm.mean_absolute_error = static_cast<float>(p.sum_abs / static_cast<double>(n));
    // KL(p||q) = sum p_i (log p_i - log q_i) with p = softmax(g), q = softmax(m). As sum p_i = 1
    // and log p_i - log q_i = (g_i - m_i) - (lse_g - lse_m), KL = T / S_g - (lse_g - lse_m):
    // one pass instead of two, and terms whose p underflows to 0 still contribute 0.
    const double kl = sg.t / sg.sum - (sg.lse() - sm.lse());
    mm.kl_divergence = static_cast<double>(static_cast<float>(std::max(kl, 0.0)));
    mm.relative_euclidean_distance = red_from(p.gg, p.dd);
    r.msit = mm;
  }
  return r;
}

}  // namespace

PairResult compare_sources(ValueSource& golden, ValueSource& my, const MetricSelection& sel) {
  if (!sel.msprobe) return msit_pass(golden, my, sel);
  // The msprobe set works on whole float arrays (Eigen, float64).
  std::vector<float> g(golden.size()), m(my.size());
  golden.load(0, g.size(), g.data());
  my.load(0, m.size(), m.data());
  return compare_values(g, m, sel);
}

PairResult compare_values(std::span<const float> golden, std::span<const float> my, const MetricSelection& sel) {
  MemorySource gs(DType::Float32, reinterpret_cast<const std::byte*>(golden.data()), golden.size());
  MemorySource ms(DType::Float32, reinterpret_cast<const std::byte*>(my.data()), my.size());
  PairResult r = msit_pass(gs, ms, sel);
  if (!sel.msprobe || !r.fail_reason.empty()) return r;
  const std::size_t n = golden.size();
  const MapF gv(golden.data(), static_cast<Eigen::Index>(n));
  const MapF mv(my.data(), static_cast<Eigen::Index>(n));
  if (sel.msprobe) {
    // msprobe: float64, golden zeros shifted by eps64 on both sides (docs/compare.md).
    double eucl = 0, one_k = 0, five_k = 0, probe_max_rel = 0;
    for_blocks(n, [&](Eigen::Index off, Eigen::Index len) {
      const Eigen::ArrayXd gd = gv.segment(off, len).cast<double>();
      const Eigen::ArrayXd md = mv.segment(off, len).cast<double>();
      const double e64 = std::numeric_limits<double>::epsilon();
      const Eigen::ArrayXd gz = (gd == 0).select(gd + e64, gd);
      const Eigen::ArrayXd mz = (gd == 0).select(md + e64, md);
      const Eigen::ArrayXd prel = ((mz - gz) / gz).abs();
      probe_max_rel = std::max(probe_max_rel, prel.maxCoeff());
      one_k += (prel < 0.001).cast<double>().sum();
      five_k += (prel < 0.005).cast<double>().sum();
      eucl += (md - gd).square().sum();
    });
    MsprobeMetrics pr;
    double gg = 0, mm2 = 0, gm = 0;
    for_blocks(n, [&](Eigen::Index off, Eigen::Index len) {
      const auto a = gv.segment(off, len).cast<double>();
      const auto b = mv.segment(off, len).cast<double>();
      gg += (a * a).sum();
      mm2 += (b * b).sum();
      gm += (a * b).sum();
    });
    const double e64 = std::numeric_limits<double>::epsilon();
    const double ng = std::sqrt(gg), nm = std::sqrt(mm2);
    if (ng <= e64 && nm <= e64) {
      pr.cosine = 1.0;
    } else if (ng > e64 && nm > e64) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.12f", gm / (ng * nm));
      double c = std::strtod(buf, nullptr);
      if (c > 0.9999) {
        std::snprintf(buf, sizeof buf, "%.6f", c);
        c = std::strtod(buf, nullptr);
      }
      pr.cosine = c;
    }
    pr.euc_dist = std::sqrt(eucl);
    pr.max_abs_err = (mv - gv).cast<double>().abs().maxCoeff();
    pr.max_relative_err = probe_max_rel;
    pr.one_thousandth_err_ratio = one_k / static_cast<double>(n);
    pr.five_thousandths_err_ratio = five_k / static_cast<double>(n);
    const double cos = pr.cosine.value_or(std::numeric_limits<double>::quiet_NaN());
    const bool no = (cos < 0.99 && pr.max_abs_err > 0.001) || cos < 0.9 || pr.max_abs_err > 1;
    pr.accuracy_reached = no ? "No" : "Yes";
    r.msprobe = pr;
  }
  return r;
}

}  // namespace aitdb::compare
