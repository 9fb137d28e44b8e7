// Compare engine: matchers on ingested fixture dumps, first divergence, fail reasons, the report
// CSV (columns, order, formatting, filters) and the SQL functions through `aitdb query`.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <limits>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/query/output.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb::compare {
namespace {

using test::TempDir;
using test::ingest_as;
using test::scalar;

// A small ATB dump, two tokens: 0_Embed, 1_<op1_type>, 2_Block/0_Norm, 2_Block. With `diverge`
// the outputs of op 1 and of 2_Block/0_Norm (which runs after it) are changed.
std::filesystem::path make_dump(const TempDir& d, const std::string& name, bool diverge,
                                const std::string& op1_type = "LinearOperation") {
  const auto t = d / name / "msit_dump_20250101_000000" / "tensors" / "0_99";
  for (int token = 0; token < 2; ++token) {
    const auto k = t / std::to_string(token);
    const auto b = static_cast<float>(token + 1);
    test::write_file(k / "0_Embed/after/outtensor0.bin", test::atb_f32({b, 2 * b, 3 * b, 4 * b}));
    const std::vector<float> lin = diverge ? std::vector<float>{b, b, -0.5F * b, -2.0F} : std::vector<float>{b, -b, 0.5F * b, 2.0F};
    test::write_file(k / ("1_" + op1_type) / "after/outtensor0.bin", test::atb_f32(lin));
    test::write_file(k / ("1_" + op1_type) / "before/intensor0.bin", test::atb_f32({b, 2 * b, 3 * b, 4 * b}));
    test::write_file(k / "2_Block/0_Norm/after/outtensor0.bin", test::atb_f32({1, 2, 3, diverge ? 40.0F : 4.0F}));
    test::write_file(k / "2_Block/after/outtensor0.bin", test::atb_f32({5, 6, 7, 8}));
  }
  return d / name / "msit_dump_20250101_000000";
}

TEST(CompareSameGraph, PerturbedOpIsTheFirstDivergence) {
  TempDir d;
  Store s((d / "w.db").string());
  ingest_as(s, make_dump(d, "golden", false), "golden");
  ingest_as(s, make_dump(d, "my", true), "my");
  const auto sum = compare_runs(s, "golden", "my", {});
  EXPECT_EQ(sum.matchers, std::vector<std::string>{"path"});
  EXPECT_EQ(sum.pairs, 8U);  // 4 outputs x 2 tokens; inputs only with include_inputs
  EXPECT_EQ(sum.failed, 0U);
  ASSERT_TRUE(sum.first_divergence);
  EXPECT_NE(sum.first_divergence->my.find("my:tensors/0_99/0/1_LinearOperation/after/outtensor0.bin"), std::string::npos)
      << sum.first_divergence->my;
  EXPECT_LT(*sum.first_divergence->cosine, 0.99);
  // The view agrees, in my-side execution order.
  EXPECT_EQ(scalar(s, "SELECT my_data_path FROM first_divergence WHERE comparison_id = " + std::to_string(sum.comparison_id))
                .find("/my/msit_dump_20250101_000000/tensors/0_99/0/1_LinearOperation/after/outtensor0.bin") != std::string::npos,
            true);
  EXPECT_EQ(scalar(s, "SELECT group_concat(golden_op_type, ' ') FROM (SELECT golden_op_type FROM report WHERE token_id = '0' "
                      "ORDER BY seq)"),
            "Embed LinearOperation Norm Block");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM results r JOIN pairs p ON p.id = r.pair_id WHERE p.comparison_id = " +
                          std::to_string(sum.comparison_id) + " AND r.cosine_similarity = 1.0"),
            "4");

  CompareOptions inputs;
  inputs.include_inputs = true;
  inputs.tokens = "1";
  const auto with_inputs = compare_runs(s, "golden", "my", inputs);
  EXPECT_EQ(with_inputs.pairs, 5U);  // token 1 only: 4 outputs + 1 input
}

TEST(CompareSameGraph, RunAgainstItselfIsCosineOneEverywhere) {
  TempDir d;
  Store s((d / "w.db").string());
  ingest_as(s, make_dump(d, "golden", false), "golden");
  const auto sum = compare_runs(s, "golden", "golden", {});
  EXPECT_EQ(sum.pairs, 8U);
  EXPECT_FALSE(sum.first_divergence);
  EXPECT_EQ(scalar(s, "SELECT min(cosine_similarity) || ' ' || max(max_absolute_error) || ' ' || max(kl_divergence) FROM "
                      "results"),
            "1.0 0.0 0.0");
}

TEST(CompareSameGraph, QuantAndFloatOpTypesPairAfterNormalisation) {
  TempDir d;
  Store s((d / "w.db").string());
  ingest_as(s, make_dump(d, "float", false, "LinearOperation"), "float");
  ingest_as(s, make_dump(d, "quant", false, "LinearQuantOperation"), "quant");
  ingest_as(s, make_dump(d, "other", false, "MatmulOperation"), "other");
  auto sum = compare_runs(s, "float", "quant", {});
  EXPECT_EQ(sum.pairs, 8U);
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM report WHERE my_op_type = 'LinearQuantOperation' AND golden_op_type = "
                      "'LinearOperation' AND comparison_id = " + std::to_string(sum.comparison_id)),
            "2");
  sum = compare_runs(s, "float", "other", {});
  EXPECT_EQ(sum.pairs, 6U);  // op 1 differs in type: not paired
}

// docs/compare.md rule 3: a quantised graph inserts a QuantOperation, shifting the ids of the
// ops after it; children still pair by normalised type and rank where the counts agree.
TEST(CompareSameGraph, TypeAndCountMatchingSurvivesShiftedIds) {
  TempDir d;
  const auto f = d / "float/tensors/0_7/0/2_Layer";
  test::write_file(f / "0_RmsNormOperation/after/outtensor0.bin", test::atb_f32({1, 2}));
  test::write_file(f / "1_LinearOperation/after/outtensor0.bin", test::atb_f32({3, 4}));
  test::write_file(f / "2_ElewiseOperation/after/outtensor0.bin", test::atb_f32({5, 6}));
  test::write_file(f / "after/outtensor0.bin", test::atb_f32({7, 8}));
  const auto q = d / "quant/tensors/0_8/0/2_Layer";
  test::write_file(q / "0_RmsNormOperation/after/outtensor0.bin", test::atb_f32({1, 2}));
  test::write_file(q / "1_QuantOperation/after/outtensor0.bin", test::atb_f32({9, 9}));
  test::write_file(q / "2_LinearQuantOperation/after/outtensor0.bin", test::atb_f32({3, -4}));
  test::write_file(q / "3_ElewiseOperation/after/outtensor0.bin", test::atb_f32({5, 6}));
  test::write_file(q / "after/outtensor0.bin", test::atb_f32({7, 8}));
  Store s((d / "w.db").string());
  ingest_as(s, d / "float", "float");
  ingest_as(s, d / "quant", "quant");
  const auto sum = compare_runs(s, "float", "quant", {});
  EXPECT_EQ(sum.pairs, 4U);
  EXPECT_EQ(scalar(s, "SELECT group_concat(g.op_path || '=' || m.op_path, ' ') FROM (SELECT * FROM pairs ORDER BY seq) p "
                      "JOIN tensors g ON g.id = p.golden_tensor_id JOIN tensors m ON m.id = p.my_tensor_id"),
            "2_0=2_0 2_1=2_2 2_2=2_3 2=2");
  ASSERT_TRUE(sum.first_divergence);
  EXPECT_NE(sum.first_divergence->my.find("2_LinearQuantOperation"), std::string::npos);
}

// docs/formats.md / docs/compare.md: two model JSONs mean folder 0 is a warm-up, folder 1 holds
// token 0 (prefill graph ops) and token 1 (decode graph ops), folder k >= 2 is token k.
TEST(CompareSameGraph, AtbTokenRemapWithPrefillAndDecodeGraphs) {
  TempDir d;
  for (const char* side : {"g", "m"}) {
    const auto root = d / side;
    test::write_file(root / "model/100/LlamaPrefill.json", R"({"modelName":"LlamaPrefill","nodes":[{"opName":"Prefill_layer_2"}]})");
    test::write_file(root / "model/100/LlamaDecode.json", R"({"modelName":"LlamaDecode","nodes":[{"opName":"Decoder_layer_3"}]})");
    const auto t = root / "tensors/0_100";
    test::write_file(t / "0/2_Prefill_layer/after/outtensor0.bin", test::atb_f32({1, 2}));  // warm-up
    test::write_file(t / "1/2_Prefill_layer/after/outtensor0.bin", test::atb_f32({1, 2}));
    test::write_file(t / "1/3_Decoder_layer/after/outtensor0.bin", test::atb_f32({3, 4}));
    test::write_file(t / "2/3_Decoder_layer/after/outtensor0.bin", test::atb_f32({5, 6}));
  }
  Store s((d / "w.db").string());
  ingest_as(s, d / "g", "g");
  ingest_as(s, d / "m", "m");
  auto sum = compare_runs(s, "g", "m", {});
  EXPECT_EQ(sum.pairs, 3U);  // the warm-up folder is never compared
  EXPECT_EQ(scalar(s, "SELECT group_concat(p.token_id || ':' || m.op_type, ' ') FROM (SELECT * FROM pairs ORDER BY seq) p "
                      "JOIN tensors m ON m.id = p.my_tensor_id"),
            "0:Prefill_layer 1:Decoder_layer 2:Decoder_layer");
  CompareOptions only_decode;
  only_decode.tokens = "1";
  sum = compare_runs(s, "g", "m", only_decode);
  EXPECT_EQ(sum.pairs, 1U);
}

TEST(CompareFailures, SizeNanAndCorruptBlobFailOnlyTheirPair) {
  TempDir d;
  test::write_file(d / "g/tensors/0_1/0/0_A/after/outtensor0.bin", test::atb_f32({1, 2, 3}));
  test::write_file(d / "g/tensors/0_1/0/1_B/after/outtensor0.bin", test::atb_f32({1, 2, 3}));
  test::write_file(d / "g/tensors/0_1/0/2_C/after/outtensor0.bin", test::atb_f32({1, 2, 3}));
  test::write_file(d / "g/tensors/0_1/0/3_D/after/outtensor0.bin", test::atb_f32({7, 8, 9}));
  test::write_file(d / "m/tensors/0_2/0/0_A/after/outtensor0.bin", test::atb_f32({1, 2, 3, 4}));
  test::write_file(d / "m/tensors/0_2/0/1_B/after/outtensor0.bin", test::atb_f32({1, std::numeric_limits<float>::quiet_NaN(), 3}));
  test::write_file(d / "m/tensors/0_2/0/2_C/after/outtensor0.bin", test::atb_f32({1, 2, 3.5F}));
  test::write_file(d / "m/tensors/0_2/0/3_D/after/outtensor0.bin", test::atb_f32({7, 8, 9.5F}));
  const auto db = (d / "w.db").string();
  {
    Store s(db);
    ingest_as(s, d / "g", "g");
    ingest_as(s, d / "m", "m");
  }
  {  // Corrupt the stored bytes of my 2_C: replace its chunk by a valid frame of other bytes.
    Store s(db);
    const auto other = encode_blob(test::bytes_of(std::vector<float>{9, 9, 9}), 4, 3);
    sqlite3* h = nullptr;
    sqlite3_open(db.c_str(), &h);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h,
                       "UPDATE blob_chunks SET data = ?1 WHERE key = (SELECT t.blob_key FROM tensors t JOIN runs r ON "
                       "r.id = t.run_id WHERE r.name = 'm' AND t.op_path = '2')",
                       -1, &st, nullptr);
    sqlite3_bind_blob(st, 1, other.chunks[0].data(), static_cast<int>(other.chunks[0].size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(h);
  }
  Store s(db);
  CompareOptions o;
  o.match = "path";
  const auto sum = compare_runs(s, "g", "m", o);
  // op paths match but the device/pid differ (0_1 vs 0_2): pairing is by device, not pid.
  ASSERT_EQ(sum.pairs, 4U);
  EXPECT_EQ(sum.failed, 3U);
  const auto reason = [&](const char* op) {
    return scalar(s, std::string("SELECT cmp_fail_reason FROM report r JOIN tensors m ON m.id = r.my_tensor_id WHERE m.op_path = '") + op + "'");
  };
  EXPECT_EQ(reason("0"), "data shape doesn't match.");
  EXPECT_EQ(reason("1"), "my_data includes NAN or inf.");
  EXPECT_NE(reason("2").find("failed its content hash check"), std::string::npos) << reason("2");
  EXPECT_NE(reason("2").find("m:tensors/0_2/0/2_C/after/outtensor0.bin"), std::string::npos) << reason("2");
  EXPECT_EQ(reason("3"), "");
  // Failed pairs are listed on their own, in execution order, and never stand in for the first
  // divergence (view and summary agree).
  ASSERT_EQ(sum.first_failed.size(), 3U);
  EXPECT_EQ(sum.first_failed[0].seq, 0);
  EXPECT_LT(sum.first_failed[0].seq, sum.first_failed[1].seq);
  EXPECT_FALSE(sum.first_divergence);
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM first_divergence"), "0");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM failed_pairs"), "3");
}

// Every read of a tensor checks its element count x dtype against the blob it names: a damaged
// numel cell fails its pair with the reason instead of comparing a misread tensor.
TEST(CompareFailures, ElementCountThatDoesNotMatchTheBlobFailsThePair) {
  TempDir d;
  test::write_file(d / "g/tensors/0_1/0/0_A/after/outtensor0.bin", test::atb_f32({1, 2, 3}));
  test::write_file(d / "m/tensors/0_1/0/0_A/after/outtensor0.bin", test::atb_f32({1, 2, 3}));
  const auto db = (d / "w.db").string();
  Store s(db);
  ingest_as(s, d / "g", "g");
  ingest_as(s, d / "m", "m");
  s.execute("UPDATE tensors SET numel = 4 WHERE run_id = (SELECT id FROM runs WHERE name = 'm')", {},
            [](const auto&) {}, [](const auto&) {});
  CompareOptions o;
  o.match = "path";
  const auto sum = compare_runs(s, "g", "m", o);
  ASSERT_EQ(sum.pairs, 1U);
  EXPECT_EQ(sum.failed, 1U);
  const std::string reason = scalar(s, "SELECT cmp_fail_reason FROM results");
  EXPECT_NE(reason.find("4 x float32 needs 16 bytes but its blob holds 12"), std::string::npos) << reason;
}

TEST(CompareFiles, TwoSingleFilesOfDifferentFormats) {
  TempDir d;
  test::write_file(d / "golden.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4})));
  test::write_file(d / "my.bin", test::atb_f32({1.1F, 1.9F, 3.0F, 4.4F}));
  Store s((d / "w.db").string());
  ingest_as(s, d / "golden.npy", "g");
  ingest_as(s, d / "my.bin", "m");
  const auto sum = compare_runs(s, "g", "m", {});
  EXPECT_EQ(sum.matchers, std::vector<std::string>{"files"});
  ASSERT_EQ(sum.pairs, 1U);
  EXPECT_NEAR(std::stod(scalar(s, "SELECT cosine_similarity FROM results")), 0.998416467, 1e-9);  // compare.md example A
}

TEST(CompareDataId, MsitDumpDataAndAclcmpMetadata) {
  TempDir d;
  // my side: an ATB dump; golden side: msit dump_data's golden_tensor tree with metadata.json.
  const auto my_root = d / "my/msit_dump_20250101_000000";
  test::write_file(my_root / "tensors/0_5/0/3_Mlp/after/outtensor0.bin", test::atb_f32({1, 2, 3, 4}));
  test::write_file(my_root / "tensors/0_5/0/4_Out/after/outtensor0.bin", test::atb_f32({4, 3, 2, 1}));
  const auto g_root = d / "golden/msit_dump_20250101_000001";
  const auto gt = g_root / "5_0/golden_tensor";
  test::write_file(gt / "0/mlp_tensor.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4.5F})));
  test::write_file(gt / "0/out_tensor.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{4, 3, 2, 1})));
  // Paths as recorded on the dumping machine: other absolute roots, same tails.
  test::write_file(gt / "metadata.json",
                   R"({"mlp": {"0": ["/data/run1/msit_dump_20250101_000001/5_0/golden_tensor/0/mlp_tensor.npy",)"
                   R"( "/data/run2/msit_dump_20250101_000000/tensors/0_5/0/3_Mlp/after/outtensor0.bin"]},)"
                   R"( "out": {"0": ["/x/5_0/golden_tensor/0/out_tensor.npy", "/y/tensors/0_5/0/4_Out/after/outtensor0.bin"]}})");
  Store s((d / "w.db").string());
  ingest_as(s, g_root, "golden");
  ingest_as(s, my_root, "my");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM labels"), "2");
  const auto sum = compare_runs(s, "golden", "my", {});
  EXPECT_EQ(sum.matchers, std::vector<std::string>{"data_id"});
  ASSERT_EQ(sum.pairs, 2U);
  EXPECT_EQ(scalar(s, "SELECT group_concat(data_id || '@' || token_id || '=' || cosine_similarity, ' ') FROM (SELECT * FROM "
                      "report ORDER BY data_id)"),
            "mlp@0=" + query::format_double(std::stod(scalar(s, "SELECT cosine_similarity FROM report WHERE data_id='mlp'"))) +
                " out@0=1.0");

  // aclcmp: one metadata.json per side, {data_id: {token: path}}.
  TempDir a;
  test::write_file(a / "g/123_cmp_dump_data/golden_tensor/0/d1_tensor.npy",
                   test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(a / "g/123_cmp_dump_data/golden_tensor/metadata.json",
                   R"({"d1": {"0": "/old/123_cmp_dump_data/golden_tensor/0/d1_tensor.npy"}})");
  test::write_file(a / "m/123_cmp_dump_data/acl_tensor/0/d1_tensor.npy",
                   test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(a / "m/123_cmp_dump_data/acl_tensor/metadata.json",
                   R"({"d1": {"0": ["/old/123_cmp_dump_data/acl_tensor/0/d1_tensor.npy"]}})");
  ingest_as(s, a / "g", "acl_golden");
  ingest_as(s, a / "m", "acl_my");
  CompareOptions o;
  o.match = "data_id";
  const auto acl = compare_runs(s, "acl_golden", "acl_my", o);
  ASSERT_EQ(acl.pairs, 1U);
  EXPECT_FALSE(acl.first_divergence);
}

TEST(CompareData, BadMetadataJsonIsAnIngestError) {
  TempDir d;
  test::write_file(d / "g/golden_tensor/metadata.json", R"({"d1": 5})");
  Store s((d / "w.db").string());
  const auto r = ingest::ingest_path(s, d / "g", {});
  EXPECT_EQ(r.errors, 1U);
  EXPECT_NE(scalar(s, "SELECT reason FROM ingest_errors").find("is not an object of tokens"), std::string::npos);
}

// The report CSV end to end: exact header, row order, Python-repr numbers, filters, no overwrite.
TEST(CompareReportCsv, GoldenFile) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  test::write_file(d / "golden.safetensors",
                   test::safetensors({{"a", "F32", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4})},
                                      {"b", "F32", {3}, test::bytes_of(std::vector<float>{1, 2, 3})},
                                      {"c", "I8", {2}, test::bytes_of(std::vector<std::int8_t>{1, 2})},
                                      {"d", "F32", {2}, test::bytes_of(std::vector<float>{1, 2})}}));
  test::write_file(d / "my.safetensors",
                   test::safetensors({{"a", "F32", {2, 2}, test::bytes_of(std::vector<float>{1, 2, 3, 5})},
                                      {"b", "F32", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4})},
                                      {"c", "F32", {2}, test::bytes_of(std::vector<float>{1, 2})},
                                      {"d", "F32", {2}, test::bytes_of(std::vector<float>{1, nan})}}));
  const auto out = d / "reports";
  auto r = test::run_aitdb({"compare", "--db", db, "-gp", (d / "golden.safetensors").string(), "-mp",
                            (d / "my.safetensors").string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("4 pairs, 2 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(2 rows, 2 dropped by msit's filters)"), std::string::npos) << r.out;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(out)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1U);
  const std::string name = files[0].filename().string();
  EXPECT_EQ(name.size(), std::string("msit_cmp_report_20261122031759.csv").size());
  EXPECT_EQ(name.rfind("msit_cmp_report_", 0), 0U);

  const std::vector<float> g{1, 2, 3, 4}, m{1, 2, 3, 5};
  const auto a = compare_values(g, m).msit.value();
  const std::string gp = (d / "golden.safetensors").string();
  const std::string mp = (d / "my.safetensors").string();
  const std::string expected =
      "token_id,data_id,golden_data_path,golden_op_type,golden_dtype,golden_shape,golden_max_value,golden_min_value,"
      "golden_mean_value,my_data_path,my_op_type,my_dtype,my_shape,my_max_value,my_min_value,my_mean_value,"
      "cosine_similarity,max_relative_error,mean_relative_error,max_absolute_error,mean_absolute_error,kl_divergence,"
      "relative_euclidean_distance,cmp_fail_reason\n"
      "0,a," + gp + ",,torch.float32,[4],4.0,1.0,2.5," + mp + ",,torch.float32,\"[2, 2]\",5.0,1.0,2.75," +
      query::format_double(a.cosine_similarity) + ",0.25,0.0625,1.0,0.25," + query::format_double(a.kl_divergence) + "," +
      query::format_double(a.relative_euclidean_distance) + ",\n" +
      "0,d," + gp + ",,torch.float32,[2],2.0,1.0,1.5," + mp + ",,torch.float32,[2],,,,,,,,,,,my_data includes NAN or inf.\n";
  EXPECT_EQ(test::read_file(files[0]), expected);
  EXPECT_EQ(query::format_double(a.cosine_similarity), "0.9939990885");  // 34 / sqrt(1170), 10 decimals

  // Exporting again in the same second never overwrites; --legacy-name switches the prefix.
  r = test::run_aitdb({"export", "--db", db, "1", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_aitdb({"export", "--db", db, "1", "-o", out.string(), "--legacy-name"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::size_t msit = 0, ait = 0;
  for (const auto& e : std::filesystem::directory_iterator(out)) {
    const auto n = e.path().filename().string();
    msit += n.rfind("msit_cmp_report_", 0) == 0 ? 1 : 0;
    ait += n.rfind("ait_cmp_report_", 0) == 0 ? 1 : 0;
    EXPECT_EQ(test::read_file(e.path()), expected) << n;
  }
  EXPECT_EQ(msit, 2U);
  EXPECT_EQ(ait, 1U);
  EXPECT_EQ(test::run_aitdb({"export", "--db", db, "99"}).exit_code, 1);
}

TEST(CompareReportCsv, CellsAreNeutralisedAgainstInjection) {
  // Text cells (op types, paths) that spreadsheets would evaluate get a leading quote; numbers
  // (including negatives) do not.
  TempDir d;
  const std::string db = (d / "w.db").string();
  test::write_file(d / "g/tensors/0_1/0/0_=HYPERLINK(x)/after/outtensor0.bin", test::atb_f32({-1, 2}));
  test::write_file(d / "m/tensors/0_1/0/0_=HYPERLINK(x)/after/outtensor0.bin", test::atb_f32({-1, 2}));
  auto r = test::run_aitdb({"compare", "--db", db, "-gp", (d / "g").string(), "-mp", (d / "m").string(), "-o",
                            (d / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string csv;
  for (const auto& e : std::filesystem::directory_iterator(d / "out")) csv = test::read_file(e.path());
  EXPECT_NE(csv.find(",'=HYPERLINK(x),"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",=HYPERLINK"), std::string::npos);
  EXPECT_NE(csv.find(",2.0,-1.0,0.5,"), std::string::npos) << csv;  // max, min, mean stay numbers
}

TEST(CompareCli, NothingMatchedIsAnError) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  make_dump(d, "golden", false);
  make_dump(d, "my", false);
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, "--run", "g", (d / "golden/msit_dump_20250101_000000").string()}).exit_code, 0);
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, "--run", "m", (d / "my/msit_dump_20250101_000000").string()}).exit_code, 0);
  auto r = test::run_aitdb({"compare", "--db", db, "g", "m", "--tokens", "7"});
  EXPECT_EQ(r.exit_code, 2);
  // The empty comparison is stored (and listed), so the database was written.
  EXPECT_EQ(r.err, "aitdb: wrote " + (d / "w.db").string() +
                       "\naitdb: g vs m: no tensor pairs matched (matcher path): check --tokens and --rank-map\n");
  r = test::run_aitdb({"compare", "--db", db, "g", "m"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("8 pairs, 0 failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no divergence: every compared pair has cosine >= 0.99"), std::string::npos) << r.out;
}

TEST(CompareSqlFunctions, ThroughAitdbQuery) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  test::write_file(d / "g.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4})));
  test::write_file(d / "m.npy", test::npy("<f2", {4}, test::bytes_of(std::vector<std::uint16_t>{
                                                          test::f32_to_f16_bits(1.1F), test::f32_to_f16_bits(1.9F),
                                                          test::f32_to_f16_bits(3.0F), test::f32_to_f16_bits(4.4F)})));
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, (d / "g.npy").string()}).exit_code, 0);
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, (d / "m.npy").string()}).exit_code, 0);
  const std::string g = "(SELECT blob_key FROM tensors WHERE op_path = 'g')";
  const std::string m = "(SELECT blob_key FROM tensors WHERE op_path = 'm')";
  auto r = test::run_aitdb({"query", "--db", db, "--format", "csv",
                            "SELECT cos_sim(" + g + ", " + m + ") AS c, max_abs_err(" + g + ", " + m + ") AS a, max_rel_err(" +
                                g + ", " + g + ") AS r, mean_rel_err(" + g + ", " + m + ") > 0 AS mr, kl_div(" + g + ", " + g +
                                ") AS k, tensor_stat(" + g + ", 'max') AS mx, tensor_stat(" + m + ", 'numel') AS n, cos_sim(NULL, " +
                                g + ") AS nul"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // fp16 inputs round 1.1, 1.9, 4.4 differently from float32, so cosine differs from example A
  // in the 7th digit; the max absolute error is |4.3984375 - 4|.
  const auto line = r.out.substr(r.out.find('\n') + 1);
  EXPECT_EQ(line.substr(0, 5), "0.998") << r.out;
  EXPECT_NE(line.find(",0.3984375,0.0,1,0.0,4.0,4,\n"), std::string::npos) << r.out;
  // Streamed in pieces, the statistics equal those computed at ingest, bit for bit.
  std::vector<float> big(100003);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = std::sin(static_cast<float>(i)) * 3.0F + 0.25F;
  test::write_file(d / "big.npy", test::npy("<f4", {static_cast<std::int64_t>(big.size())}, test::bytes_of(big)));
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, (d / "big.npy").string()}).exit_code, 0);
  r = test::run_aitdb({"query", "--db", db, "--format", "csv",
                       "SELECT tensor_stat(blob_key, 'mean') = mean AND tensor_stat(blob_key, 'std') = std AND "
                       "tensor_stat(blob_key, 'l2norm') = l2norm AND tensor_stat(blob_key, 'min') = min AND "
                       "tensor_stat(blob_key, 'numel') = 100003 AS same, cos_sim(blob_key, blob_key) > 0.99999 AS c "
                       "FROM tensors WHERE op_path = 'big'"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "same,c\n1,1\n");
  r = test::run_aitdb({"query", "--db", db, "SELECT tensor_stat(" + g + ", 'median')"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown statistic 'median'"), std::string::npos) << r.err;
  r = test::run_aitdb({"query", "--db", db, "SELECT cos_sim(x'00', x'11')"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not a blob key"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aitdb::compare
