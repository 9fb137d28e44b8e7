// opcheck golden kernels against independent references: numpy cases written by
// tests/py/opcheck_golden.py (textbook formulas), closed-form cases below, and the pass-criteria
// boundary examples of docs/opcheck.md.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <bit>
#include <nlohmann/json.hpp>

#include "aitdb/compare/opcheck_criteria.h"
#include "aitdb/compare/opcheck_kernels.h"
#include "aitdb/schema/errors.h"
#include "test_support.h"

namespace aitdb::compare {
namespace {

using nlohmann::json;

HostTensor tensor_from_json(const json& j) {
  HostTensor t;
  t.dtype = dtype_from_name(j.at("dtype").get<std::string>()).value();
  t.shape = j.at("shape").get<std::vector<std::int64_t>>();
  for (const json& v : j.at("values")) {
    t.values.push_back(v.get<float>());
    // 32/64-bit integers keep their exact value, as host_tensor_from_bytes does.
    if (t.dtype == DType::Int32 || t.dtype == DType::Int64) t.exact_integers.push_back(v.get<std::int64_t>());
  }
  return t;
}

HostTensor f32(std::vector<std::int64_t> shape, std::vector<float> values) {
  return {DType::Float32, std::move(shape), std::move(values), {}};
}

HostTensor typed(DType dtype, std::vector<std::int64_t> shape, std::vector<float> values) {
  return {dtype, std::move(shape), std::move(values), {}};
}

std::vector<HostTensor> run(std::string_view op, const json& param, const std::vector<HostTensor>& inputs) {
  const OpcheckKernel kernel = find_opcheck_kernel(op);
  if (kernel == nullptr) throw std::runtime_error("no kernel for " + std::string(op));
  return kernel({.what = "test/" + std::string(op), .param = param, .inputs = inputs});
}

class OpcheckNumpy : public ::testing::Test {
 protected:
  static const json& cases() {
    static const json loaded = [] {
      test::TempDir tmp;
      const auto path = tmp / "cases.json";
      if (test::run_python("opcheck_golden.py", {path.string()}) != 0) return json();
      return json::parse(test::read_file(path));
    }();
    return loaded;
  }
};

TEST_F(OpcheckNumpy, EveryCaseMatchesNumpy) {
  const json& all = cases();
  ASSERT_TRUE(all.is_array()) << "tests/py/opcheck_golden.py did not run (needs /usr/bin/python3 with numpy)";
  ASSERT_GE(all.size(), 55U);
  std::set<std::string> ops;
  for (const json& c : all) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    std::vector<HostTensor> inputs;
    for (const json& i : c.at("inputs")) inputs.push_back(tensor_from_json(i));
    const std::vector<HostTensor> got = run(c.at("op").get<std::string>(), c.at("param"), inputs);
    ops.insert(c.at("op").get<std::string>());
    const json& want = c.at("outputs");
    ASSERT_EQ(got.size(), want.size());
    const double tol = c.at("tol");
    for (std::size_t k = 0; k < got.size(); ++k) {
      const HostTensor expected = tensor_from_json(want[k]);
      EXPECT_EQ(dtype_name(got[k].dtype), dtype_name(expected.dtype)) << "output " << k;
      EXPECT_EQ(got[k].shape, expected.shape) << "output " << k;
      ASSERT_EQ(got[k].values.size(), expected.values.size()) << "output " << k;
      std::size_t bad = 0;
      for (std::size_t i = 0; i < expected.values.size(); ++i) {
        const double w = expected.values[i];
        if (std::abs(got[k].values[i] - w) > tol * (1 + std::abs(w)) && bad++ < 3) {
          ADD_FAILURE() << name << " output " << k << " [" << i << "]: got " << got[k].values[i] << ", want " << w;
        }
      }
    }
  }
  // The fixtures cover every registered kernel.
  for (std::string_view op : opcheck_supported_ops()) EXPECT_TRUE(ops.contains(std::string(op))) << op;
}

TEST(OpcheckRegistry, KnownAndUnknownOps) {
  EXPECT_NE(find_opcheck_kernel("LinearOperation"), nullptr);
  EXPECT_NE(find_opcheck_kernel("SelfAttentionOperation"), nullptr);
  EXPECT_EQ(find_opcheck_kernel("TopkToppSamplingOperation"), nullptr);
  EXPECT_EQ(find_opcheck_kernel("linearoperation"), nullptr);
  EXPECT_EQ(find_opcheck_kernel(""), nullptr);
  const auto ops = opcheck_supported_ops();
  EXPECT_EQ(ops.size(), 24U);
  EXPECT_TRUE(std::is_sorted(ops.begin(), ops.end()));
  for (std::string_view op : ops) EXPECT_NE(find_opcheck_kernel(op), nullptr) << op;
  EXPECT_EQ(std::vector<int>(opcheck_inplace_inputs("ReshapeAndCacheOperation").begin(),
                             opcheck_inplace_inputs("ReshapeAndCacheOperation").end()),
            (std::vector<int>{2, 3}));
  EXPECT_EQ(opcheck_inplace_inputs("KvCacheOperation").size(), 1U);
  EXPECT_TRUE(opcheck_inplace_inputs("LinearOperation").empty());
}

void expect_format_error(std::string_view op, const json& param, const std::vector<HostTensor>& inputs,
                         const std::string& reason_part) {
  try {
    run(op, param, inputs);
    ADD_FAILURE() << op << " accepted " << param.dump();
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), "test/" + std::string(op));
    EXPECT_NE(e.reason().find(reason_part), std::string::npos) << e.reason();
    EXPECT_EQ(e.reason().find('\n'), std::string::npos);
  }
}

TEST(OpcheckErrors, BadParamsAndInputsThrowFormatError) {
  const HostTensor a = f32({2, 3}, {1, 2, 3, 4, 5, 6});
  const HostTensor b = f32({2, 2}, {1, 2, 3, 4});
  expect_format_error("ElewiseOperation", {{"elewiseType", 99}}, {a, a}, "unknown elewiseType 99");
  expect_format_error("ElewiseOperation", json::object(), {a, a}, "param elewiseType is missing");
  expect_format_error("ElewiseOperation", {{"elewiseType", 8}}, {a}, "expects 2 input tensors, got 1");
  expect_format_error("ElewiseOperation", {{"elewiseType", 8}}, {a, b}, "do not broadcast");
  expect_format_error("LinearOperation", {{"transposeB", true}}, {a, a}, "param transposeA is missing");
  expect_format_error("LinearOperation", {{"transposeA", false}, {"transposeB", false}}, {a, a}, "do not multiply");
  expect_format_error("ActivationOperation", {{"activationType", "relu"}}, {a}, "not an integer");
  expect_format_error("RmsNormOperation", {{"layerType", 7}}, {a, a}, "unknown layerType 7");
  expect_format_error("SoftmaxOperation", {{"axes", json::array({5})}}, {a}, "out of range");
  expect_format_error("SplitOperation", {{"splitSizes", json::array({1, 2})}}, {a}, "do not add up");
  expect_format_error("GatherOperation", {{"axis", 0}}, {a, typed(DType::Int32, {1}, {2})}, "out of range");
  expect_format_error("PagedAttentionOperation", {{"quantType", 1}}, {a}, "quantType 1 is not supported");
}

TEST(OpcheckKernels, HalfResultsAreRoundedToNearestEven) {
  // 1 + 2^-11 is halfway between 1 and the next fp16 (1 + 2^-10): ties to even gives 1.
  const HostTensor x = typed(DType::Float16, {3}, {1.0F, 1.0F, 2048.0F});
  const HostTensor y = typed(DType::Float16, {3}, {0.00048828125F, 0.000732421875F, 1.0F});
  const auto out = run("ElewiseOperation", {{"elewiseType", 8}}, {x, y});
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(out[0].dtype, DType::Float16);
  EXPECT_EQ(out[0].values, (std::vector<float>{1.0F, 1.0009765625F, 2048.0F}));  // 2049 is not fp16
  // bf16 keeps 8 significant bits: 1 + 2^-8 rounds to 1 (tie, even), 1 + 3*2^-9 to 1 + 2^-7.
  const HostTensor xb = typed(DType::BFloat16, {2}, {1.0F, 1.0F});
  const HostTensor yb = typed(DType::BFloat16, {2}, {0.00390625F, 0.005859375F});
  EXPECT_EQ(run("ElewiseOperation", {{"elewiseType", 8}}, {xb, yb})[0].values, (std::vector<float>{1.0F, 1.0078125F}));
}

TEST(OpcheckKernels, ClosedFormCases) {
  // QUANT truncates toward zero; CAST uses the aclDataType code (3 = int32).
  const HostTensor x = f32({4}, {1.9F, -1.9F, 127.5F, -0.4F});
  EXPECT_EQ(run("ElewiseOperation", {{"elewiseType", 6}}, {x})[0].values, (std::vector<float>{1, -1, 127, 0}));
  const auto cast = run("ElewiseOperation", {{"elewiseType", 1}, {"outTensorType", 3}}, {x});
  EXPECT_EQ(cast[0].dtype, DType::Int32);
  EXPECT_EQ(cast[0].values, (std::vector<float>{1, -1, 127, 0}));
  // Dequant with offset: (y - offset) * scale, fp16.
  const auto deq = run("ElewiseOperation", {{"elewiseType", 18}},
                       {typed(DType::Int8, {2}, {10, -4}), f32({2}, {0.5F, 2.0F}), f32({2}, {2, 1})});
  EXPECT_EQ(deq[0].dtype, DType::Float16);
  EXPECT_EQ(deq[0].values, (std::vector<float>{4.0F, -10.0F}));
  // Asymmetric dynamic quant of row [0, 255]: scale 1, offset -127.5, q = round(x - 127.5).
  const auto dq = run("ElewiseOperation", {{"elewiseType", 19}, {"quantParam", {{"asymmetric", true}}}},
                      {f32({1, 3}, {0.0F, 255.0F, 100.0F})});
  ASSERT_EQ(dq.size(), 3U);
  EXPECT_EQ(dq[0].values, (std::vector<float>{-128.0F, 127.0F, -28.0F}));
  EXPECT_EQ(dq[1].values, (std::vector<float>{1.0F}));
  EXPECT_EQ(dq[2].values, (std::vector<float>{-127.5F}));
  // Logical ops give int8 0/1.
  EXPECT_EQ(run("ElewiseOperation", {{"elewiseType", 11}}, {f32({3}, {1, 0, 2}), f32({3}, {1, 1, 0})})[0].values,
            (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(run("ElewiseOperation", {{"elewiseType", 7}}, {f32({2}, {0, 3})})[0].values, (std::vector<float>{1, 0}));
  // Fill without a mask: fp16 of outDim.
  const auto fill = run("FillOperation", {{"withMask", false}, {"value", {0.1}}, {"outDim", {2, 2}}}, {});
  EXPECT_EQ(fill[0].dtype, DType::Float16);
  EXPECT_EQ(fill[0].shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(fill[0].values[3], 0.0999755859375F);
  // RmsNorm of [3, 4] with gamma 1: rms = sqrt(12.5 + eps) -> [0.8485, 1.1314] (fp16 rounded).
  const auto rms = run("RmsNormOperation", {{"layerType", 1}, {"normParam", {{"epsilon", 0.0}}}},
                       {typed(DType::Float16, {1, 2}, {3, 4}), typed(DType::Float16, {2}, {1, 1})});
  EXPECT_EQ(rms[0].values, (std::vector<float>{round_to_dtype(DType::Float16, 3 / std::sqrt(12.5F)),
                                               round_to_dtype(DType::Float16, 4 / std::sqrt(12.5F))}));
  // SwiGLU backward at a = 0: d/da = g * b / 2, d/db = 0.
  const auto back = run("ActivationOperation", {{"activationType", 7}}, {f32({1, 1}, {2}), f32({1, 2}, {0, 3})});
  EXPECT_EQ(back[0].values, (std::vector<float>{3.0F, 0.0F}));
}

// Every GEMM variant this CPU runs (AVX-512, AVX2+FMA, baseline) against a double-precision
// reference, on shapes that exercise Eigen's edge blocks and the column split over threads.
TEST(OpcheckKernels, LinearEveryGemmVariantMatchesReference) {
  const std::int64_t m = 37, k = 300, n = 530;  // 2*m*n*k > 2^24: split over threads
  HostTensor x = f32({m, k}, {});
  HostTensor w = f32({n, k}, {});
  for (std::int64_t i = 0; i < m * k; ++i) x.values.push_back(static_cast<float>((i * 7919) % 23) / 23.0F - 0.5F);
  for (std::int64_t i = 0; i < n * k; ++i) w.values.push_back(static_cast<float>((i * 104729) % 31) / 31.0F - 0.5F);
  std::vector<double> ref(static_cast<std::size_t>(m * n));
  for (std::int64_t i = 0; i < m; ++i) {
    for (std::int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::int64_t p = 0; p < k; ++p) acc += double(x.values[i * k + p]) * double(w.values[j * k + p]);
      ref[i * n + j] = acc;
    }
  }
  const std::string chosen = opcheck_gemm_isa();
  int tried = 0;
  for (const char* isa : {"avx512", "avx2+fma", "baseline"}) {
    if (!set_opcheck_gemm_isa(isa)) continue;
    ++tried;
    EXPECT_STREQ(opcheck_gemm_isa(), isa);
    const auto y = run("LinearOperation", {{"transposeA", false}, {"transposeB", true}}, {x, w});
    ASSERT_EQ(y[0].shape, (std::vector<std::int64_t>{m, n}));
    double worst = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) worst = std::max(worst, std::abs(double(y[0].values[i]) - ref[i]));
    EXPECT_LT(worst, 1e-4) << isa;
  }
  EXPECT_GE(tried, 1);
  EXPECT_FALSE(set_opcheck_gemm_isa("sse9"));
  ASSERT_TRUE(set_opcheck_gemm_isa(chosen));
}

// The vectorised fp16 rounding (F16C, where the CPU has it) against the scalar rule, through a
// Linear whose float32 product is exact (x @ [[1]]): a sweep of float bit patterns plus the
// overflow, tie and subnormal boundaries.
TEST(OpcheckKernels, HalfRoundingOfOutputsMatchesTheScalarRule) {
  std::vector<float> v{0.0F, -0.0F, 65504.0F, 65519.99F, 65520.0F, -65520.0F, 0x1p-24F, 0x1p-25F, 0x1.8p-25F,
                       0x1p-26F, 1.0F + 0x1p-11F, 1.0F + 0x3p-11F, std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()};
  for (std::uint64_t bits = 0; bits < (1ULL << 32U); bits += 40009) v.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
  const auto n = static_cast<std::int64_t>(v.size());
  const auto y = run("LinearOperation", {{"transposeA", false}, {"transposeB", true}},
                     {typed(DType::Float16, {n, 1}, v), f32({1, 1}, {1.0F})});
  ASSERT_EQ(y[0].values.size(), v.size());
  std::size_t checked = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const float want = round_to_dtype(DType::Float16, v[i]);
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(y[0].values[i])) << i;
    } else if (want == 0.0F) {
      EXPECT_EQ(y[0].values[i], 0.0F) << "input " << v[i];  // the GEMM's +0 accumulator turns -0 into +0
    } else {
      ASSERT_EQ(std::bit_cast<std::uint32_t>(y[0].values[i]), std::bit_cast<std::uint32_t>(want)) << "input " << v[i];
    }
    ++checked;
  }
  EXPECT_GT(checked, 100000U);
  EXPECT_EQ(y[0].values[4], std::numeric_limits<float>::infinity());  // 65520 overflows
  EXPECT_EQ(y[0].values[7], 0.0F);                                     // 2^-25 ties to even: 0
  EXPECT_EQ(y[0].values[8], 0x1p-24F);                                 // 1.5 * 2^-25 rounds up
}

TEST(OpcheckKernels, LinearDeqScaleReadsFloatBitsFromInt64) {
  // 0x3F000000 is 0.5f; the high word must be ignored.
  HostTensor deq = typed(DType::Int64, {1}, {0});
  deq.exact_integers = {(std::int64_t{7} << 32) | 0x3F000000};
  const auto out = run("LinearOperation", {{"transposeA", false}, {"transposeB", true}},
                       {typed(DType::Int8, {1, 2}, {3, 4}), typed(DType::Int8, {1, 2}, {1, 2}), deq});
  EXPECT_EQ(out[0].dtype, DType::Float32);
  EXPECT_EQ(out[0].values, (std::vector<float>{5.5F}));
}

TEST(OpcheckKernels, HostTensorFromBytes) {
  const std::vector<std::int64_t> raw{(std::int64_t{1} << 40) + 3, -2};
  const HostTensor t = host_tensor_from_bytes("x", DType::Int64, {2}, std::as_bytes(std::span(raw)));
  EXPECT_EQ(t.exact_integers, raw);
  EXPECT_EQ(t.values[1], -2.0F);
  EXPECT_THROW(host_tensor_from_bytes("x", DType::Int64, {3}, std::as_bytes(std::span(raw))), FormatError);
}

// docs/opcheck.md "Pass criteria" examples.
TEST(OpcheckCriteria, Float32Example) {
  const auto c = check_output("op", f32({4}, {1, 2, 3, 4}), f32({4}, {1, 2, 3, 4.00001F}));
  EXPECT_FALSE(c.passed);
  EXPECT_EQ(c.rel_pass_rate, 75.0);
  EXPECT_NEAR(c.max_rel_error, 0.0000025033950806, 1e-16);
  EXPECT_EQ(c.standard.text, "99.99%(error<9.5367431640625e-07)");
  EXPECT_EQ(c.fail_reason, "relative pass rate: 75.0 not met standart: 99.99.");
}

TEST(OpcheckCriteria, Float32ErrorExactlyAtToleranceCountsAsWithin) {
  // out 4 vs golden 4.000004 (float32 4.0000038147): 4/g - 1 rounds to exactly -2^-20.
  const float golden = 4.000004F;
  ASSERT_EQ(std::abs(4.0F / golden - 1.0F), std::ldexp(1.0F, -20));
  const auto c = check_output("op", f32({4}, {1, 2, 3, 4}), f32({4}, {1, 2, 3, golden}));
  EXPECT_EQ(c.rel_pass_rate, 100.0);
  EXPECT_TRUE(c.passed);
  EXPECT_EQ(c.max_rel_error, std::ldexp(1.0, -20));
}

TEST(OpcheckCriteria, Float16Examples) {
  const HostTensor out = typed(DType::Float16, {5}, {1, 2, 3, 0, -0.5F});
  const auto fail = check_output("op", out, typed(DType::Float16, {5}, {1, 2.00390625F, 3, 0, -0.5F}));
  EXPECT_EQ(fail.max_rel_error, 0.001953125);  // computed in fp16, not 0.00194932
  // 4 / 5 as a float32 quotient is 0.800000011920929.
  EXPECT_EQ(fail.rel_pass_rate, static_cast<double>(0.8F) * 100);
  EXPECT_FALSE(fail.passed);
  EXPECT_EQ(fail.standard.text, "99.9%(error<0.0009765625)");
  EXPECT_EQ(fail.fail_reason, "relative pass rate: 80.0000011920929 not met standart: 99.9.");
  const auto pass = check_output("op", out, typed(DType::Float16, {5}, {1, 2.001953125F, 3, 0, -0.5F}));
  EXPECT_EQ(pass.max_rel_error, 0.0009765625);  // exactly 2^-10: within
  EXPECT_EQ(pass.rel_pass_rate, 100.0);
  EXPECT_TRUE(pass.passed);
  EXPECT_EQ(pass.fail_reason, "");
}

TEST(OpcheckCriteria, StrictGreaterThanRequiredRate) {
  // Bool outputs need > 100 %: never pass even when identical.
  const HostTensor flags = typed(DType::Bool, {3}, {1, 0, 1});
  const auto b = check_output("op", flags, flags);
  EXPECT_EQ(b.rel_pass_rate, 100.0);
  EXPECT_FALSE(b.passed);
  EXPECT_EQ(b.standard.text, "100%(error<0.0001)");
  EXPECT_EQ(b.fail_reason, "relative pass rate: 100.0 not met standart: 100.");
  // float32: 9999 of 10000 within is 99.99 % exactly, as a float32 quotient 99.98999834: fails.
  HostTensor golden = f32({10000}, std::vector<float>(10000, 1));
  HostTensor out = golden;
  out.values[0] = 1.5F;
  const auto f = check_output("op", out, golden);
  EXPECT_FALSE(f.passed);
  EXPECT_EQ(f.fail_reason, "relative pass rate: 99.98999834060669 not met standart: 99.99.");
  // uint8 (tolerance 1, rate 99): 98 of 100 fails; 99 of 100 passes because float32(0.99) > 0.99.
  HostTensor g8 = typed(DType::UInt8, {100}, std::vector<float>(100, 10));
  HostTensor o8 = g8;
  o8.values[0] = 20;  // rel exactly 1: within
  o8.values[1] = 40;  // rel 3
  o8.values[2] = 40;
  EXPECT_FALSE(check_output("op", o8, g8).passed);
  o8.values[2] = 10;
  EXPECT_TRUE(check_output("op", o8, g8).passed);
}

TEST(OpcheckCriteria, RateIsAFloat32Quotient) {
  // 999 of 1000 within: float32(0.999) * 100 = 99.90000128746033 > 99.9, so fp16 passes.
  HostTensor golden = typed(DType::Float16, {1000}, std::vector<float>(1000, 1));
  HostTensor out = golden;
  out.values[0] = 2;
  const auto c = check_output("op", out, golden);
  EXPECT_EQ(c.rel_pass_rate, static_cast<double>(0.999F) * 100);
  EXPECT_TRUE(c.passed);
  // 998 of 1000: 99.80000257492065 fails with that text.
  out.values[1] = 2;
  const auto f = check_output("op", out, golden);
  EXPECT_FALSE(f.passed);
  EXPECT_EQ(f.fail_reason, "relative pass rate: 99.80000257492065 not met standart: 99.9.");
}

TEST(OpcheckCriteria, GoldenNearZeroIsMaskedAndOptionalMetrics) {
  const HostTensor golden = f32({4}, {0, 1e-9F, 2, -4});
  const HostTensor out = f32({4}, {5, 3, 2.5F, -4});
  const auto c = check_output("op", out, golden, {.abs = true, .cos_sim = true, .kl = true});
  EXPECT_EQ(c.rel_pass_rate, 75.0);
  EXPECT_EQ(c.max_rel_error, 0.25);
  EXPECT_EQ(c.abs_pass_rate.value(), 75.0);
  EXPECT_EQ(c.max_abs_error.value(), 0.5);
  // cos = (0*5 + 1e-9*3 + 2*2.5 + 16) / (|g| |o|)
  const double gn = std::sqrt(1e-18 + 4 + 16);
  const double on = std::sqrt(25.0 + 9 + 6.25 + 16);
  EXPECT_NEAR(c.cosine_similarity.value(), (3e-9 + 5 + 16) / (gn * on), 1e-10);
  double kl = 0;
  double zg = 0;
  double zo = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    zg += std::exp(static_cast<double>(golden.values[i]));
    zo += std::exp(static_cast<double>(out.values[i]));
  }
  for (std::size_t i = 0; i < 4; ++i) {
    const double p = std::exp(static_cast<double>(golden.values[i])) / zg;
    kl += p * (std::log(p) - (out.values[i] - std::log(zo)));
  }
  EXPECT_NEAR(c.kl_divergence.value(), kl, 1e-12);
  EXPECT_FALSE(c.passed);
}

TEST(OpcheckCriteria, CaseVerdictAndErrors) {
  const HostTensor a = f32({2}, {1, 2});
  const HostTensor bad = f32({2}, {1, 3});
  const std::vector<HostTensor> dumped{a, bad};
  const std::vector<HostTensor> golden{a, a, a};
  const auto c = check_outputs("op", dumped, golden);
  EXPECT_FALSE(c.passed);
  ASSERT_EQ(c.outputs.size(), 2U);
  EXPECT_TRUE(c.outputs[0].passed);
  EXPECT_EQ(c.fail_reason, "output count: dumped 2, golden 3, relative pass rate: 50.0 not met standart: 99.99.");
  EXPECT_TRUE(check_outputs("op", std::vector<HostTensor>{a}, std::vector<HostTensor>{a}).passed);
  try {
    check_output("op", typed(DType::Complex64, {1}, {1}), a);
    ADD_FAILURE();
  } catch (const FormatError& e) {
    EXPECT_EQ(e.reason(), "torch.complex64 not supported!");
  }
  EXPECT_THROW(check_output("op", a, f32({3}, {1, 2, 3})), FormatError);
}

TEST(OpcheckCriteria, PrecisionModes) {
  EXPECT_EQ(precision_mode_from_name("keep"), PrecisionMode::Keep);
  EXPECT_EQ(precision_mode_from_name("force_fp16"), PrecisionMode::ForceFp16);
  EXPECT_EQ(precision_mode_from_name("force_fp32"), PrecisionMode::ForceFp32);
  EXPECT_FALSE(precision_mode_from_name("fp16").has_value());
  HostTensor t = f32({2}, {1.0001F, 3});
  apply_precision_mode(PrecisionMode::ForceFp16, t);
  EXPECT_EQ(t.dtype, DType::Float16);
  EXPECT_EQ(t.values[0], 1.0F);
  HostTensor i = typed(DType::Int32, {1}, {5});
  apply_precision_mode(PrecisionMode::ForceFp16, i);
  EXPECT_EQ(i.dtype, DType::Int32);
  HostTensor h = typed(DType::BFloat16, {1}, {1.5F});
  apply_precision_mode(PrecisionMode::ForceFp32, h);
  EXPECT_EQ(h.dtype, DType::Float32);
}

TEST(OpcheckCriteria, PythonFloatRepr) {
  EXPECT_EQ(python_float_repr(80.0), "80.0");
  EXPECT_EQ(python_float_repr(99.90000128746033), "99.90000128746033");
  EXPECT_EQ(python_float_repr(std::ldexp(1.0, -20)), "9.5367431640625e-07");
  EXPECT_EQ(python_float_repr(0.0009765625), "0.0009765625");
  EXPECT_EQ(python_float_repr(0.0001), "0.0001");
  EXPECT_EQ(python_float_repr(1e16), "1e+16");
  EXPECT_EQ(python_float_repr(-2.5e-5), "-2.5e-05");
  EXPECT_EQ(python_float_repr(123456789012345.0), "123456789012345.0");
}

}  // namespace
}  // namespace aitdb::compare
