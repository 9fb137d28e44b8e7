// opcheck over a stored ATB dump, own vs inherited error in compare, errcheck, and their CLI.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/compare/errcheck.h"
#include "aitdb/compare/opcheck_runner.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/query/output.h"
#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb {
namespace {

using test::TempDir;
using test::ingest_as;
using test::scalar;
using Matrix = std::vector<float>;  // row-major

constexpr int kAclFloat = 0;
constexpr int kAclFloat16 = 1;
constexpr int kAclBFloat16 = 27;

std::string bin_f32(const std::vector<std::int64_t>& dims, const Matrix& v) {
  return test::atb_bin(kAclFloat, dims, test::bytes_of(v));
}

// y = x·γ / sqrt(mean(x²) + ε) per row of 4, computed here in double (independently of the kernel).
Matrix rms_norm(const Matrix& x, const Matrix& gamma, double eps) {
  Matrix y(x.size());
  const std::size_t h = gamma.size();
  for (std::size_t r = 0; r < x.size() / h; ++r) {
    double ss = 0;
    for (std::size_t c = 0; c < h; ++c) ss += static_cast<double>(x[r * h + c]) * x[r * h + c];
    const double rstd = 1.0 / std::sqrt(ss / static_cast<double>(h) + eps);
    for (std::size_t c = 0; c < h; ++c) y[r * h + c] = static_cast<float>(x[r * h + c] * rstd * gamma[c]);
  }
  return y;
}

// x [m, k] times Wᵀ with W [n, k].
Matrix linear_bt(const Matrix& x, const Matrix& w, std::size_t m, std::size_t k, std::size_t n) {
  Matrix y(m * n);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      double acc = 0;
      for (std::size_t p = 0; p < k; ++p) acc += static_cast<double>(x[i * k + p]) * w[j * k + p];
      y[i * n + j] = static_cast<float>(acc);
    }
  }
  return y;
}

Matrix add(const Matrix& a, const Matrix& b) {
  Matrix y(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) y[i] = a[i] + b[i];
  return y;
}

// One ATB layer: 0_RmsNorm -> 1_Linear (transposeB) -> 2_Elewise ADD with a residual, and
// 3_GatingOperation, which has no CPU golden. With corrupt_linear, the Linear output is negated
// (the kernel was wrong) and the Add consumes the wrong values as a real dump would.
void write_layer(const std::filesystem::path& root, bool corrupt_linear) {
  const Matrix x{1, 2, 3, 4, -1, 0.5F, 2, -3};
  const Matrix gamma{1, 0.5F, 2, 1.5F};
  const Matrix w{0.1F, 0.2F, 0.3F, 0.4F, -0.5F, 0.25F, 1, 2, 0.7F, -0.1F, 0.05F, 0.3F};
  const Matrix residual{0.01F, 0.02F, -0.01F, 0.03F, 0.0F, -0.02F};
  const Matrix normed = rms_norm(x, gamma, 1e-5);
  Matrix linear = linear_bt(normed, w, 2, 4, 3);
  if (corrupt_linear) {
    for (auto& v : linear) v = -v;
  }
  const Matrix sum = add(linear, residual);
  const auto op = root / "tensors/0_100/0/1_Layer";
  test::write_file(op / "0_RmsNormOperation/op_param.json", R"({"layerType":1,"normParam":{"epsilon":1e-5}})");
  test::write_file(op / "0_RmsNormOperation/before/intensor0.bin", bin_f32({2, 4}, x));
  test::write_file(op / "0_RmsNormOperation/before/intensor1.bin", bin_f32({4}, gamma));
  test::write_file(op / "0_RmsNormOperation/after/outtensor0.bin", bin_f32({2, 4}, normed));
  test::write_file(op / "1_LinearOperation/op_param.json", R"({"transposeA":false,"transposeB":true,"hasBias":false})");
  test::write_file(op / "1_LinearOperation/before/intensor0.bin", bin_f32({2, 4}, normed));
  test::write_file(op / "1_LinearOperation/before/intensor1.bin", bin_f32({3, 4}, w));
  test::write_file(op / "1_LinearOperation/after/outtensor0.bin", bin_f32({2, 3}, linear));
  test::write_file(op / "2_ElewiseOperation/op_param.json", R"({"elewiseType":8})");
  test::write_file(op / "2_ElewiseOperation/before/intensor0.bin", bin_f32({2, 3}, linear));
  test::write_file(op / "2_ElewiseOperation/before/intensor1.bin", bin_f32({2, 3}, residual));
  test::write_file(op / "2_ElewiseOperation/after/outtensor0.bin", bin_f32({2, 3}, sum));
  test::write_file(op / "3_GatingOperation/op_param.json", R"({"topkExpertNum":1})");
  test::write_file(op / "3_GatingOperation/before/intensor0.bin", bin_f32({2, 3}, sum));
  test::write_file(op / "3_GatingOperation/after/outtensor0.bin", bin_f32({2, 3}, sum));
}

std::string verdicts(Store& s, const std::string& run) {
  return scalar(s, "SELECT group_concat(op_id || '=' || verdict, ' ') FROM (SELECT v.* FROM opcheck_verdicts v "
                   "JOIN runs r ON r.id = v.run_id WHERE r.name = '" + run + "' ORDER BY v.op_id)");
}

TEST(OpcheckRun, CorruptedOpFailsAloneAndUnsupportedOpHasARow) {
  TempDir d;
  write_layer(d / "golden", false);
  write_layer(d / "my", true);
  Store s((d / "w.db").string());
  ingest_as(s, d / "golden", "golden");
  ingest_as(s, d / "my", "my");

  const auto g = compare::run_opcheck(s, "golden", {});
  EXPECT_EQ(g.ops, 4U);
  EXPECT_EQ(g.passed, 3U);
  EXPECT_EQ(g.failed, 0U);
  EXPECT_EQ(g.not_supported, 1U);
  EXPECT_EQ(verdicts(s, "golden"), "1_0=pass 1_1=pass 1_2=pass 1_3=not_supported");

  compare::OpcheckOptions o;
  o.jobs = 2;
  o.metrics.cos_sim = true;
  const auto m = compare::run_opcheck(s, "my", o);
  EXPECT_EQ(m.failed, 1U);
  EXPECT_EQ(verdicts(s, "my"), "1_0=pass 1_1=failed 1_2=pass 1_3=not_supported");
  // The negated output: no element within tolerance, cosine -1.
  ASSERT_EQ(m.rows.size(), 4U);
  const auto& linear = m.rows[1];
  EXPECT_EQ(linear.op_id, "1_1");
  EXPECT_EQ(linear.op_name, "LinearOperation");
  EXPECT_EQ(linear.out_tensor_id, 0);
  EXPECT_EQ(linear.precision_standard, "99.99%(error<9.5367431640625e-07)");
  EXPECT_DOUBLE_EQ(*linear.rel_precision_rate, 0.0);
  EXPECT_DOUBLE_EQ(*linear.max_rel_error, 2.0);
  EXPECT_DOUBLE_EQ(*linear.cosine_similarity, -1.0);
  EXPECT_EQ(linear.fail_reason, "relative pass rate: 0.0 not met standart: 99.99.");
  EXPECT_EQ(m.rows[3].status, "not_supported");
  EXPECT_FALSE(m.rows[3].out_tensor_id.has_value());
  EXPECT_NE(m.rows[3].fail_reason.find("GatingOperation"), std::string::npos);

  // Filters: --ids selects descendants, --opname is a case-insensitive substring.
  compare::OpcheckOptions f;
  f.ids = {"1_2", "1_0"};
  f.opnames = {"elewise"};
  const auto only = compare::run_opcheck(s, "my", f);
  ASSERT_EQ(only.ops, 1U);
  EXPECT_EQ(only.rows[0].op_id, "1_2");
  // Re-checking one op replaces its rows only.
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM opcheck_results r JOIN runs u ON u.id = r.run_id WHERE u.name = 'my'"), "4");
}

TEST(OpcheckRun, CompareMarksOwnAndInheritedError) {
  TempDir d;
  write_layer(d / "golden", false);
  write_layer(d / "my", true);
  Store s((d / "w.db").string());
  ingest_as(s, d / "golden", "golden");
  ingest_as(s, d / "my", "my");
  compare::CompareOptions o;
  o.opcheck = true;
  const auto sum = compare::compare_runs(s, "golden", "my", o);
  ASSERT_TRUE(sum.first_divergence.has_value());
  EXPECT_NE(sum.first_divergence->my.find("1_LinearOperation/after/outtensor0.bin"), std::string::npos)
      << sum.first_divergence->my;
  EXPECT_EQ(sum.first_divergence->error_origin, "own");
  EXPECT_EQ(sum.own_errors, 1U);
  // The Add and the Gating op downstream diverge too: the Add passes opcheck (inherited); Gating
  // has no kernel, so it is neither.
  EXPECT_EQ(sum.inherited_errors, 1U);
  EXPECT_EQ(scalar(s, "SELECT group_concat(my_op_id || ':' || coalesce(error_origin, '-'), ' ') FROM "
                      "(SELECT * FROM divergence ORDER BY seq)"),
            "1_1:own 1_2:inherited 1_3:-");
}

TEST(OpcheckRun, CliWritesMsitColumnsAndSummary) {
  TempDir d;
  write_layer(d / "my", true);
  const std::string db = (d / "w.db").string();
  auto r = test::run_aitdb({"ingest", (d / "my").string(), "--run", "my", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_aitdb({"opcheck", "my", "--metric", "abs", "cos_sim", "kl", "-o", (d / "out").string(), "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 ops checked, 2 passed, 1 failed, 1 not supported"), std::string::npos) << r.out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(d / "out")) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1U);
  const std::string name = files[0].filename().string();
  EXPECT_EQ(name.rfind("opcheck_result_", 0), 0U) << name;
  EXPECT_EQ(name.size(), std::string("opcheck_result_20260101000000.csv").size()) << name;
  const std::string csv = test::read_file(files[0]);
  const auto lines = [&] {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl = csv.find('\n'); nl != std::string::npos; start = nl + 1, nl = csv.find('\n', start)) {
      out.push_back(csv.substr(start, nl - start));
    }
    return out;
  }();
  ASSERT_EQ(lines.size(), 5U) << csv;
  EXPECT_EQ(lines[0],
            "op_id,op_name,op_param,tensor_path,out_tensor_id,precision_standard,precision_result,"
            "rel_precision_rate(%),max_rel_error,abs_precision_rate(%),max_abs_error,cosine_similarity,kl_divergence,"
            "fail_reason");
  const std::string dir = (d / "my/tensors/0_100/0/1_Layer/1_LinearOperation").string();
  EXPECT_EQ(lines[2].rfind("1_1,LinearOperation,\"{\"\"transposeA\"\":false,\"\"transposeB\"\":true,\"\"hasBias\"\":false}\"," +
                               dir + ",0,99.99%(error<9.5367431640625e-07),FAILED,0.0000000000000000,2.0000000000000000,",
                           0),
            0U)
      << lines[2];
  EXPECT_NE(lines[2].find(",-1.0000000000,"), std::string::npos) << lines[2];
  EXPECT_NE(lines[4].find(",NaN,NaN,NOT_SUPPORTED,NaN,NaN,NaN,NaN,NaN,NaN,not supported"), std::string::npos) << lines[4];

  // compare --opcheck names the origin on the first-divergence line.
  write_layer(d / "golden", false);
  r = test::run_aitdb({"ingest", (d / "golden").string(), "--run", "golden", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_aitdb({"compare", "golden", "my", "--opcheck", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("error  own: my op fails opcheck on its own inputs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 own error, 1 inherited"), std::string::npos) << r.out;
}

// --- errcheck ---

std::uint16_t bf16_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return static_cast<std::uint16_t>(b >> 16);  // exact for the values used here
}

template <typename T>
std::string bin_bits(int code, const std::vector<T>& v) {
  return test::atb_bin(code, {static_cast<std::int64_t>(v.size())}, test::bytes_of(v));
}

// 0_A fp32 clean; 1_B fp16 from finite inputs to a saturated output (the first overflow);
// 2_C bf16 with inf and NaN in its input and bf16's max in its output; 3_D fp32 with NaN, inf
// and FLT_MAX in its output.
void write_overflow_dump(const std::filesystem::path& root, bool clean) {
  const auto op = root / "tensors/0_100/0";
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float fmax = std::numeric_limits<float>::max();
  test::write_file(op / "0_A/after/intensor0.bin", bin_bits<float>(kAclFloat, {1, 2}));
  test::write_file(op / "0_A/after/outtensor0.bin", bin_bits<float>(kAclFloat, {1, 2}));
  test::write_file(op / "1_B/after/intensor0.bin", bin_bits<std::uint16_t>(kAclFloat16, {test::f32_to_f16_bits(3)}));
  test::write_file(op / "1_B/after/outtensor0.bin",
                   bin_bits<std::uint16_t>(kAclFloat16, {test::f32_to_f16_bits(clean ? 1 : 65504), test::f32_to_f16_bits(clean ? 1 : -65504),
                                                         test::f32_to_f16_bits(2)}));
  test::write_file(op / "2_C/after/intensor0.bin",
                   bin_bits<std::uint16_t>(kAclBFloat16, {bf16_bits(clean ? 1 : inf), bf16_bits(clean ? 1 : nan), bf16_bits(1)}));
  test::write_file(op / "2_C/after/outtensor0.bin",
                   bin_bits<std::uint16_t>(kAclBFloat16, {static_cast<std::uint16_t>(clean ? bf16_bits(1) : 0x7f7f), bf16_bits(2)}));
  test::write_file(op / "3_D/after/outtensor0.bin",
                   bin_bits<float>(kAclFloat, {clean ? 1 : nan, clean ? 1 : -inf, clean ? 1 : fmax, 5}));
}

TEST(Errcheck, CountsNanInfAndSaturationPerDtypeAndNamesTheFirstOp) {
  TempDir d;
  write_overflow_dump(d / "dump", false);
  Store s((d / "w.db").string());
  ingest_as(s, d / "dump", "r");
  // Ingest's statistics read bf16 with its own layout: inf and NaN, not fp16 misreadings.
  EXPECT_EQ(scalar(s, "SELECT nan_count || '/' || inf_count FROM tensors WHERE op_path = '2' AND io = 'in'"), "1/1");
  EXPECT_EQ(scalar(s, "SELECT nan_count || '/' || inf_count FROM tensors WHERE op_path = '3'"), "1/1");
  EXPECT_EQ(scalar(s, "SELECT nan_count || '/' || inf_count FROM tensors WHERE op_path = '1' AND io = 'out'"), "0/0");

  const auto sum = compare::run_errcheck(s, "r");
  EXPECT_EQ(sum.tensors_checked, 7U);
  EXPECT_EQ(sum.tensors_overflowed, 4U);
  EXPECT_EQ(sum.first_ops, 1U);
  EXPECT_EQ(scalar(s, "SELECT group_concat(op_id || '/' || io || ':' || nan_count || inf_count || saturated_count || "
                      "first_overflow, ' ') FROM (SELECT * FROM errcheck_report ORDER BY exec_order, tensor_id)"),
            "1/out:0021 2/in:1100 2/out:0010 3/out:1110");
}

TEST(Errcheck, ReadsMsitOverflowFilesAndLinksTheirOps) {
  TempDir d;
  write_overflow_dump(d / "dump", true);
  // The probe rewrites the file from offset 0 without truncating: the tail of an older, longer
  // line survives after the newest event.
  test::write_file(d / "dump/msit_overflow_res_100.txt",
                   "Overflow detected! Operator name: B_1:AddF16Tactic\nOverflow detected! Operator name: D_3:MulF32\n"
                   "32Tactic\n");
  Store s((d / "w.db").string());
  ingest_as(s, d / "dump", "r");
  const auto sum = compare::run_errcheck(s, "r");
  EXPECT_EQ(sum.tensors_overflowed, 0U);
  EXPECT_EQ(sum.msit_events, 2U);
  ASSERT_EQ(sum.warnings.size(), 1U);
  EXPECT_EQ(sum.warnings[0], "msit_overflow_res_100.txt:3: not an overflow event line");
  EXPECT_EQ(scalar(s, "SELECT group_concat(op_id || '=' || op_type, ' ') FROM (SELECT * FROM errcheck_report "
                      "WHERE source = 'msit_overflow_res' ORDER BY op_id)"),
            "1=B_1:AddF16Tactic 3=D_3:MulF32");
}

TEST(Errcheck, SaturationCountsBitPatternsOfEachDtype) {
  const std::vector<std::uint16_t> f16{0x7bff, 0xfbff, 0x7bfe, 0x7c00};
  EXPECT_EQ(compare::count_saturated(DType::Float16, test::bytes_of(f16)), 2);
  const std::vector<std::uint16_t> bf16{0x7f7f, 0xff7f, 0x7f80, 0x3f80};
  EXPECT_EQ(compare::count_saturated(DType::BFloat16, test::bytes_of(bf16)), 2);
  const std::vector<float> f32{std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 1.0F};
  EXPECT_EQ(compare::count_saturated(DType::Float32, test::bytes_of(f32)), 2);
  const std::vector<std::int32_t> i32{0x7f7fffff};
  EXPECT_EQ(compare::count_saturated(DType::Int32, test::bytes_of(i32)), 0);
}

TEST(Errcheck, CliExitsOneOnOverflowAndWritesCsv) {
  TempDir d;
  write_overflow_dump(d / "bad", false);
  write_overflow_dump(d / "good", true);
  const std::string db = (d / "w.db").string();
  for (const char* run : {"bad", "good"}) {
    const auto r = test::run_aitdb({"ingest", (d / run).string(), "--run", run, "--db", db});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  auto r = test::run_aitdb({"errcheck", "bad", "--csv", (d / "e.csv").string(), "--db", db});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("7 tensors checked, 4 with NaN, inf or saturated values"), std::string::npos) << r.out;
  const std::string csv = test::read_file(d / "e.csv");
  EXPECT_EQ(csv.rfind("source,rank_key,token,op_id,op_type,phase,io,io_index,dtype,nan_count,inf_count,saturated_count,"
                      "first_overflow,tensor_path\nscan,0_100,0,1,B,after,out,0,float16,0,0,2,1,",
                      0),
            0U)
      << csv;
  r = test::run_aitdb({"errcheck", "good", "--db", db});
  EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_NE(r.out.find("7 tensors checked, 0 with NaN"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace aitdb
