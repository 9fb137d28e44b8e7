// docs/compare.md worked examples A, B, C and the edge-case table, with its tolerances:
// cosine ±1e-9, max_* exact, mean_*/RED relative 1e-6, KL absolute 1e-6 + relative 1e-5.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "aitdb/compare/metrics.h"

namespace aitdb::compare {
namespace {

void expect_rel(double got, double want, double rel = 1e-6) { EXPECT_NEAR(got, want, std::abs(want) * rel + 1e-12); }
void expect_kl(double got, double want) { EXPECT_NEAR(got, want, 1e-6 + std::abs(want) * 1e-5); }

MsitMetrics run(std::vector<float> g, std::vector<float> m) {
  const auto r = compare_values(g, m);
  EXPECT_EQ(r.fail_reason, "");
  return r.msit.value_or(MsitMetrics{});
}

TEST(Metrics, WorkedExampleA) {
  const auto r = run({1, 2, 3, 4}, {1.1F, 1.9F, 3.0F, 4.4F});
  EXPECT_NEAR(r.cosine_similarity, 0.998416467, 1e-9);
  EXPECT_EQ(r.max_relative_error, 0.10000002384185791);
  expect_rel(r.mean_relative_error, 0.0625000149);
  EXPECT_EQ(r.max_absolute_error, 0.40000009536743164);
  expect_rel(r.mean_absolute_error, 0.1500000358);
  expect_kl(r.kl_divergence, 0.0193215);
  expect_rel(r.relative_euclidean_distance, 0.0774596855);
}

TEST(Metrics, WorkedExampleBGoldenZerosAreMasked) {
  const auto r = run({0, 1, -2, 0.5F}, {0.001F, 1.002F, -1.996F, 0.5F});
  EXPECT_NEAR(r.cosine_similarity, 0.99999865, 1e-8);
  expect_rel(r.max_relative_error, 0.0019999743);
  expect_rel(r.mean_relative_error, 0.0009999871);
  expect_rel(r.max_absolute_error, 0.0039999485);
  expect_rel(r.mean_absolute_error, 0.0014999807);
  EXPECT_NEAR(r.kl_divergence, 4.7e-07, 1e-6);
  expect_rel(r.relative_euclidean_distance, 0.0019999756);
}

TEST(Metrics, WorkedExampleCFromMsitUnitTests) {
  const auto r = run({1, 2, 3}, {1.1F, 2.0F, 3.1F});
  EXPECT_NEAR(r.cosine_similarity, 0.9997107736, 1e-9);
  expect_rel(r.max_relative_error, 0.1000000238);
  expect_rel(r.mean_relative_error, 0.0444444418);
  expect_rel(r.max_absolute_error, 0.1000000238);
  expect_rel(r.mean_absolute_error, 0.0666666403);
  expect_kl(r.kl_divergence, 0.000908378);
  expect_rel(r.relative_euclidean_distance, 0.0377964340);
}

struct Edge {
  std::vector<float> g, m;
  double cos, max_rel, mean_rel, max_abs, mean_abs, kl, red;
};

TEST(Metrics, EdgeCaseTable) {
  const std::vector<Edge> cases{
      {{1, 2, 3}, {2, 4, 6}, 1.0, 1.0, 1.0, 3.0, 2.0, 0.1601153, 1.0},
      {{0, 0, 0}, {0, 0, 0}, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0},
      {{0, 0, 0}, {1, 2, 3}, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3089937, 0.0},
      {{1, 2, 3}, {0, 0, 0}, 0.0, 1.0, 1.0, 3.0, 2.0, 0.2662167, 1.0},
      {{1, 2, 3}, {-1, -2, -3}, -1.0, 2.0, 2.0, 6.0, 4.0, 1.1504208, 2.0},
      {{1e-8F, 2e-8F}, {5, 6}, 0.9734171683, 0.0, 0.0, 0.0, 0.0, 0.1201145, 0.0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.g) + " vs " + testing::PrintToString(c.m));
    const auto r = run(c.g, c.m);
    EXPECT_NEAR(r.cosine_similarity, c.cos, 1e-9);
    EXPECT_EQ(r.max_relative_error, c.max_rel);
    EXPECT_EQ(r.mean_relative_error, c.mean_rel);
    EXPECT_EQ(r.max_absolute_error, c.max_abs);
    EXPECT_EQ(r.mean_absolute_error, c.mean_abs);
    expect_kl(r.kl_divergence, c.kl);
    EXPECT_EQ(r.relative_euclidean_distance, c.red);
  }
}

TEST(Metrics, PreCheckFailReasonsAreMsitStrings) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  auto r = compare_values(std::vector<float>{1, nan}, std::vector<float>{1, 2});
  EXPECT_FALSE(r.msit);
  EXPECT_EQ(r.fail_reason, "golden_data includes NAN or inf.");
  r = compare_values(std::vector<float>{1, inf}, std::vector<float>{1, nan});
  EXPECT_EQ(r.fail_reason, "golden_data includes NAN or inf. my_data includes NAN or inf.");
  r = compare_values(std::vector<float>{1, 2, 3}, std::vector<float>{1, 2, 3, 4});
  EXPECT_EQ(r.fail_reason, "data shape doesn't match.");
  r = compare_values(std::vector<float>{}, std::vector<float>{});
  EXPECT_EQ(r.fail_reason, "empty tensor");
}

TEST(Metrics, MsprobeSetOnExampleA) {
  MetricSelection sel;
  sel.msprobe = true;
  const auto r = compare_values(std::vector<float>{1, 2, 3, 4}, std::vector<float>{1.1F, 1.9F, 3.0F, 4.4F}, sel);
  ASSERT_TRUE(r.msprobe);
  EXPECT_NEAR(*r.msprobe->cosine, 0.998416467014, 1e-12);
  expect_rel(r.msprobe->euc_dist, 0.42426417);
  EXPECT_NEAR(r.msprobe->max_abs_err, 0.400000095367, 1e-12);
  EXPECT_NEAR(r.msprobe->max_relative_err, 0.100000023842, 1e-12);
  EXPECT_EQ(r.msprobe->one_thousandth_err_ratio, 0.25);
  EXPECT_EQ(r.msprobe->five_thousandths_err_ratio, 0.25);
  // "No" needs (cos < 0.99 and MaxAbsErr > 0.001) or cos < 0.9 or MaxAbsErr > 1: none holds here.
  EXPECT_EQ(r.msprobe->accuracy_reached, "Yes");
}

TEST(Metrics, LongTensorsStayAccurate) {
  // 1e6 elements crossing many blocks: a self-comparison is exact, a constant shift is known.
  std::vector<float> g(1000003), m(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    g[i] = 1.0F + static_cast<float>(i % 1000) * 0.001F;
    m[i] = g[i];
  }
  auto r = run(g, m);
  EXPECT_EQ(r.cosine_similarity, 1.0);
  EXPECT_EQ(r.max_relative_error, 0.0);
  EXPECT_EQ(r.kl_divergence, 0.0);
  EXPECT_EQ(r.relative_euclidean_distance, 0.0);
  for (auto& x : m) x += 1.0F;
  r = run(g, m);
  EXPECT_NEAR(r.kl_divergence, 0.0, 1e-6);  // softmax is shift-invariant
  expect_rel(r.mean_absolute_error, 1.0, 1e-6);
}


// Reference KL(softmax(g) || softmax(m)) in float64 with libm's exp, the textbook two passes.
double reference_kl(const std::vector<float>& g, const std::vector<float>& m) {
  const auto lse = [](const std::vector<float>& v) {
    double mx = -INFINITY;
    for (float x : v) mx = std::max(mx, static_cast<double>(x));
    double s = 0;
    for (float x : v) s += std::exp(x - mx);
    return mx + std::log(s);
  };
  const double lg = lse(g), lm = lse(m);
  double kl = 0;
  for (std::size_t i = 0; i < g.size(); ++i) {
    const double lp = g[i] - lg;
    kl += std::exp(lp) * (lp - (m[i] - lm));
  }
  return kl;
}

TEST(Metrics, KlOfLongTensorsMatchesFloat64Reference) {
  // The vectorised exp and the one-pass closed form must stay within compare.md's KL tolerance
  // over many blocks and a wide logit range (values spread over [-12, 12], large and small
  // divergences).
  std::vector<float> g(300007), m(g.size()), m2(g.size());
  std::uint32_t state = 12345;
  const auto uniform = [&] {
    state = state * 1664525U + 1013904223U;
    return static_cast<float>(state >> 8U) / 16777216.0F;
  };
  for (std::size_t i = 0; i < g.size(); ++i) {
    g[i] = 24.0F * uniform() - 12.0F;
    m[i] = g[i] + 0.5F * (uniform() - 0.5F);
    m2[i] = g[i] * (1.0F + 0.001F * (uniform() - 0.5F));
  }
  expect_kl(run(g, m).kl_divergence, reference_kl(g, m));
  expect_kl(run(g, m2).kl_divergence, reference_kl(g, m2));
  EXPECT_GT(reference_kl(g, m), 0.01);  // the first case is a real divergence, not noise
}

}  // namespace
}  // namespace aitdb::compare
