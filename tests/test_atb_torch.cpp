// Automatic ATB <-> torch mapping (matcher atb_torch) on a real model: tiny_llama dumped by our
// torch hooks (golden) and, from the same weights, in ATB's layout with ATB op types (my), written
// by tests/py/make_atb_dump.py.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/query/output.h"
#include "aitdb/schema/blob_codec.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb {
namespace {

using test::TempDir;

constexpr int kLayers = 4;  // tiny_llama's default
constexpr int kTokens = 3;  // make_transformer_dumps.STEPS

std::string scalar(Store& s, const std::string& sql) {
  std::string out = "<none>";
  s.execute(sql, {}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) { out = query::cell_text(r[0]); });
  return out;
}

std::filesystem::path only_child(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) return e.path();
  return {};
}

// (my id_path -> golden module name) of a comparison's op pairs for one rule at token 0, from the
// pairs' tensors.
std::map<std::string, std::string> op_pairs(Store& s, std::int64_t comparison, const std::string& rule) {
  std::map<std::string, std::string> out;
  s.execute(
      "SELECT DISTINCT mn.id_path, gn.id_path FROM pairs p "
      "JOIN tensors g ON g.id = p.golden_tensor_id JOIN op_nodes gn ON gn.id = g.op_node_id "
      "JOIN tensors m ON m.id = p.my_tensor_id JOIN op_nodes mn ON mn.id = m.op_node_id "
      "WHERE p.comparison_id = ?1 AND p.rule = ?2 AND mn.token = 0",
      {comparison, rule}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) {
        const auto [it, fresh] = out.emplace(std::get<std::string>(r[0]), std::get<std::string>(r[1]));
        EXPECT_TRUE(fresh) << "my op " << it->first << " paired twice";
      });
  return out;
}

class AtbTorch : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::have_torch()) return;
    dir_ = std::make_unique<TempDir>();
    ASSERT_EQ(test::run_python("make_atb_dump.py", {(*dir_ / "out").string()}), 0);
    store_ = std::make_unique<Store>((*dir_ / "w.db").string());
    for (const char* side : {"golden", "atb", "atb_perturbed", "md5_golden", "atb_md5", "atb_bias"}) {
      ingest::IngestOptions o;
      o.run_name = side;
      const auto rep = ingest::ingest_path(*store_, only_child(*dir_ / "out" / side), o);
      ASSERT_EQ(rep.errors, 0U) << side;
    }
  }
  static void TearDownTestSuite() {
    store_.reset();
    dir_.reset();
  }
  void SetUp() override {
    if (!test::have_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
    ASSERT_TRUE(store_);
  }
  static compare::CompareSummary compare(const std::string& my, std::vector<std::string> levels = {},
                                         std::optional<std::string> mapping = std::nullopt) {
    compare::CompareOptions o;
    o.levels = std::move(levels);
    o.op_mapping_file = std::move(mapping);
    o.cosine_threshold = 0.999;
    return compare::compare_runs(*store_, "golden", my, o);
  }
  static std::unique_ptr<TempDir> dir_;
  static std::unique_ptr<Store> store_;
};
std::unique_ptr<TempDir> AtbTorch::dir_;
std::unique_ptr<Store> AtbTorch::store_;

TEST_F(AtbTorch, AutoPicksTheMappingAndLayerLevelPairsTheKthLayers) {
  const auto sum = compare("atb", {"layer"});
  ASSERT_EQ(sum.matchers, std::vector<std::string>{"atb_torch"});
  const auto c = std::to_string(sum.comparison_id);
  // One output per layer and token; embedding, final norm and lm head by name.
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM pairs WHERE comparison_id = " + c + " AND rule = 'atb_torch:layer'"),
            std::to_string(kLayers * kTokens));
  const auto layers = op_pairs(*store_, sum.comparison_id, "atb_torch:layer");
  ASSERT_EQ(layers.size(), static_cast<std::size_t>(kLayers));
  for (int i = 0; i < kLayers; ++i) EXPECT_EQ(layers.at(std::to_string(i + 1)), "root.model.layers." + std::to_string(i));
  const auto special = op_pairs(*store_, sum.comparison_id, "atb_torch:layer_special");
  const std::map<std::string, std::string> want_special{{"0", "root.model.embed_tokens"},
                                                        {std::to_string(kLayers + 1), "root.model.norm"},
                                                        {std::to_string(kLayers + 2), "root.lm_head"}};
  EXPECT_EQ(special, want_special);
  EXPECT_EQ(sum.failed, 0U);
  EXPECT_FALSE(sum.first_divergence);  // same weights, same computation
  EXPECT_EQ(scalar(*store_, "SELECT min(cosine_similarity) > 0.9999999 FROM report WHERE comparison_id = " + c), "1");
  // Report rows carry both op types.
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM report WHERE comparison_id = " + c +
                                " AND my_data_path LIKE '%/2_LlamaDecoderLayer/after/outtensor0.bin'"
                                " AND golden_data_path LIKE '%/root.model.layers.1/output.pth'"),
            std::to_string(kTokens));
}

TEST_F(AtbTorch, ModuleLevelPairsLayerChildrenAndOpsThroughTheTable) {
  const auto sum = compare("atb", {"module"});
  const auto modules = op_pairs(*store_, sum.comparison_id, "atb_torch:module");
  const auto ops = op_pairs(*store_, sum.comparison_id, "atb_torch:op_map");
  std::map<std::string, std::string> want_modules;
  std::map<std::string, std::string> want_ops;
  for (int i = 0; i < kLayers; ++i) {
    const std::string my = std::to_string(i + 1);
    const std::string g = "root.model.layers." + std::to_string(i);
    want_modules[my + "_1"] = g + ".self_attn";
    want_modules[my + "_4"] = g + ".mlp";
    want_ops[my + "_0"] = g + ".input_layernorm";            // RmsNormOperation <-> RMSNorm (custom table)
    want_ops[my + "_3"] = g + ".post_attention_layernorm";
    want_ops[my + "_1_0"] = g + ".self_attn.q_proj";         // LinearOperation <-> Linear (built-in)
    want_ops[my + "_1_1"] = g + ".self_attn.k_proj";
    want_ops[my + "_1_2"] = g + ".self_attn.v_proj";
    want_ops[my + "_1_5"] = g + ".self_attn.o_proj";
    want_ops[my + "_4_0"] = g + ".mlp.gate_proj";
    want_ops[my + "_4_2"] = g + ".mlp.up_proj";
    want_ops[my + "_4_4"] = g + ".mlp.down_proj";
  }
  EXPECT_EQ(modules, want_modules);
  EXPECT_EQ(ops, want_ops);
  EXPECT_EQ(sum.failed, 0U);
  EXPECT_FALSE(sum.first_divergence);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM pairs WHERE comparison_id = " + std::to_string(sum.comparison_id)),
            std::to_string((want_modules.size() + want_ops.size()) * kTokens));
}

// msit's rule: an un-biased LinearOperation whose next sibling is an Elewise ADD hands its place
// to that sibling, whose output holds the bias.
TEST_F(AtbTorch, BiasLessLinearHandsOverToItsAddSibling) {
  const auto sum = compare("atb_bias", {"module"});
  const auto ops = op_pairs(*store_, sum.comparison_id, "atb_torch:op_map");
  for (int i = 0; i < kLayers; ++i) {
    const std::string my = std::to_string(i + 1);
    EXPECT_EQ(ops.at(my + "_4_5"), "root.model.layers." + std::to_string(i) + ".mlp.down_proj");
    EXPECT_EQ(ops.count(my + "_4_4"), 0U);
    EXPECT_EQ(ops.at(my + "_4_0"), "root.model.layers." + std::to_string(i) + ".mlp.gate_proj");  // no ADD after it
  }
  EXPECT_FALSE(sum.first_divergence);
  EXPECT_EQ(sum.failed, 0U);
}

TEST_F(AtbTorch, FirstDivergenceIsThePerturbedLinear) {
  const auto sum = compare("atb_perturbed");
  ASSERT_TRUE(sum.first_divergence);
  EXPECT_EQ(sum.first_divergence->token, 0);
  EXPECT_NE(sum.first_divergence->my.find("/0/3_LlamaDecoderLayer/4_Mlp/4_LinearOperation/after/outtensor0.bin"),
            std::string::npos)
      << sum.first_divergence->my;
  EXPECT_NE(sum.first_divergence->golden.find("/0/root.model.layers.2.mlp.down_proj/output.pth"), std::string::npos)
      << sum.first_divergence->golden;
  const auto c = std::to_string(sum.comparison_id);
  // Everything my side ran before it agrees.
  EXPECT_EQ(scalar(*store_, "SELECT min(cosine_similarity) > 0.9999999 FROM report WHERE comparison_id = " + c +
                                " AND seq < (SELECT seq FROM first_divergence WHERE comparison_id = " + c + ")"),
            "1");
  // Its Mlp (module pair) diverges as much; the layer output, dominated by the residual, less but
  // visibly (everything before agrees to 1e-7).
  EXPECT_EQ(scalar(*store_, "SELECT cosine_similarity < 0.999 FROM report WHERE comparison_id = " + c +
                                " AND my_data_path LIKE '%/0/3_LlamaDecoderLayer/4_Mlp/after/outtensor0.bin'"),
            "1");
  EXPECT_EQ(scalar(*store_, "SELECT cosine_similarity < 0.9999999 FROM report WHERE comparison_id = " + c +
                                " AND my_data_path LIKE '%/0/3_LlamaDecoderLayer/after/outtensor0.bin'"),
            "1");
}

TEST_F(AtbTorch, UserMappingFileAddsAndOverridesEntries) {
  const auto folder = *dir_ / "mapping";
  std::filesystem::create_directories(folder);
  // A file given by its folder; a string value is one torch type; an empty list drops a built-in.
  test::write_file(folder / "op_mapping_file.json",
                   R"({"ActivationOperation": "SiLU", "RmsNormOperation": []})");
  const auto sum = compare("atb", {"module"}, folder.string());
  const auto ops = op_pairs(*store_, sum.comparison_id, "atb_torch:op_map");
  for (int i = 0; i < kLayers; ++i) {
    const std::string my = std::to_string(i + 1);
    const std::string g = "root.model.layers." + std::to_string(i);
    EXPECT_EQ(ops.count(my + "_0"), 0U) << "RmsNorm entry overridden by an empty list";
    EXPECT_EQ(ops.at(my + "_4_1"), g + ".mlp.act_fn");
    EXPECT_EQ(ops.at(my + "_4_4"), g + ".mlp.down_proj");
  }
  EXPECT_EQ(sum.failed, 0U);
  EXPECT_FALSE(sum.first_divergence);

  test::write_file(folder / "bad.json", R"({"Linear Operation": "Linear"})");
  EXPECT_THROW(compare("atb", {}, (folder / "bad.json").string()), FormatError);
  EXPECT_THROW(compare("atb", {}, (folder / "missing.json").string()), NotFoundError);
}

TEST_F(AtbTorch, PairingIsDeterministic) {
  auto listing = [&](std::int64_t id) {
    std::string out;
    store_->execute(
        "SELECT seq, golden_tensor_id, my_tensor_id, rule FROM pairs WHERE comparison_id = ?1 ORDER BY seq", {id},
        [](const auto&) {}, [&](const std::vector<SqlValue>& r) {
          for (const auto& v : r) out += query::cell_text(v) + ",";
          out += "\n";
        });
    return out;
  };
  compare::CompareOptions o;
  o.match_only = true;
  const auto a = compare::compare_runs(*store_, "golden", "atb", o);
  const auto b = compare::compare_runs(*store_, "golden", "atb", o);
  EXPECT_GT(a.pairs, 0U);
  EXPECT_EQ(listing(a.comparison_id), listing(b.comparison_id));
}

TEST_F(AtbTorch, AutoWithoutAPairingNamesThePairingsThatExist) {
  try {
    compare::compare_runs(*store_, "atb", "golden", {});
    FAIL() << "an ATB golden with a torch my run has no matcher";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("no matcher pairs a atb_tree golden with a torch_tree run"), std::string::npos) << what;
    EXPECT_NE(what.find("atb_torch: a torch_tree golden"), std::string::npos) << what;
    EXPECT_EQ(what.find("--match"), std::string::npos) << what;
  }
}

// msit's spellings: -gp/-mp ingest and compare, -cl picks the level, -mf the mapping folder.
TEST_F(AtbTorch, CliTakesMsitSpellings) {
  const auto mapping = *dir_ / "cli_mapping";
  test::write_file(mapping / "op_mapping_file.json", R"({"ActivationOperation": ["SiLU"]})");
  const std::string db = (*dir_ / "cli.db").string();
  auto r = test::run_aitdb({"compare", "--db", db, "-gp", only_child(*dir_ / "out" / "golden").string(), "-mp",
                            only_child(*dir_ / "out" / "atb_perturbed").string(), "-cl", "module", "-mf",
                            mapping.string(), "-o", dir_->path().string(), "--threshold", "0.999"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("matcher atb_torch"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3_LlamaDecoderLayer/4_Mlp/4_LinearOperation/after/outtensor0.bin"), std::string::npos) << r.out;
  Store s(db);
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM pairs WHERE rule = 'atb_torch:layer'"), "0");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM pairs p JOIN tensors g ON g.id = p.golden_tensor_id "
                      "JOIN op_nodes n ON n.id = g.op_node_id WHERE n.type = 'SiLU'"),
            std::to_string(kLayers * kTokens));
  r = test::run_aitdb({"compare", "--db", db, "-gp", only_child(*dir_ / "out" / "golden").string(), "-mp",
                       only_child(*dir_ / "out" / "atb").string(), "-cl", "api"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

// aclcmp's weight-MD5 flow: module outputs keyed by the MD5 of their weight (md5_hooks) against an
// ATB md5-mode dump (thread_{pid} rank, inputs as empty files named by their MD5).
TEST_F(AtbTorch, WeightMd5PairsEveryWeightedModule) {
  // The metadata is {token: {md5: [path]}}: the MD5 is the data_id, the outer key the token.
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM labels l JOIN runs r ON r.id = l.run_id WHERE r.name = 'md5_golden' "
                            "AND length(l.data_id) = 32 AND l.token_id IN ('0', '1', '2')"),
            std::to_string(39 * kTokens));
  EXPECT_EQ(scalar(*store_, "SELECT group_concat(DISTINCT rr.rank_key) FROM run_ranks rr JOIN runs r ON r.id = rr.run_id "
                            "WHERE r.name = 'atb_md5'"),
            "thread_" + scalar(*store_, "SELECT pid FROM run_ranks rr JOIN runs r ON r.id = rr.run_id WHERE r.name = 'atb_md5'"));
  const auto sum = compare::compare_runs(*store_, "md5_golden", "atb_md5", {});
  ASSERT_EQ(sum.matchers, std::vector<std::string>{"weight_md5"});
  // Every weighted module (embedding, 2 norms and 7 linears per layer, final norm, lm head) at
  // every token: each finds its ATB op, output against outtensor0.
  EXPECT_EQ(sum.pairs, 39U * kTokens);
  EXPECT_EQ(sum.failed, 0U);
  EXPECT_FALSE(sum.first_divergence);
  const auto c = std::to_string(sum.comparison_id);
  EXPECT_EQ(scalar(*store_, "SELECT count(*) FROM report WHERE comparison_id = " + c +
                                " AND golden_data_path LIKE '%/0/model.layers.2.mlp.down_proj_output.npy'"
                                " AND my_data_path LIKE '%/0/3_LlamaDecoderLayer/4_Mlp/4_LinearOperation/after/outtensor0.bin'"),
            "1");
  EXPECT_EQ(scalar(*store_, "SELECT min(cosine_similarity) > 0.9999999 FROM report WHERE comparison_id = " + c), "1");
}

// My side with real input bytes instead of MD5 placeholders: the matcher hashes the stored blobs
// once (blobs.md5) and pairs through them.
TEST(WeightMd5, StoredInputBytesAreHashedOnDemand) {
  TempDir d;
  const std::vector<float> weight{0.5F, -1.0F, 2.0F, 4.0F};
  const std::vector<float> out{1, 2, 3, 4};
  const auto weight_bytes = test::bytes_of(weight);
  const std::string md5 = md5_hex(weight_bytes);
  const auto npy_path = d / "golden/ait_dump/77/0/fc_output.npy";
  test::write_file(npy_path, test::npy("<f4", {4}, test::bytes_of(out), false));
  test::write_file(d / "golden/ait_dump/77/metadata.json",
                   R"({"0": {")" + md5 + R"(": [")" + npy_path.string() + R"("]}})");
  const auto op = d / "my/tensors/0_77/0/0_Layer/0_LinearOperation/after";
  test::write_file(op / "intensor0.bin", test::atb_bin(0, {2}, test::bytes_of(std::vector<float>{9, 9})));
  test::write_file(op / "intensor1.bin", test::atb_bin(0, {4}, weight_bytes));
  test::write_file(op / "outtensor0.bin", test::atb_bin(0, {4}, test::bytes_of(out)));
  Store s((d / "w.db").string());
  for (const char* side : {"golden", "my"}) {
    ingest::IngestOptions o;
    o.run_name = side;
    ASSERT_EQ(ingest::ingest_path(s, side == std::string("golden") ? d / "golden/ait_dump" : d / "my", o).errors, 0U);
  }
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM blobs WHERE md5 IS NOT NULL"), "0");
  const auto sum = compare::compare_runs(s, "golden", "my", {});
  ASSERT_EQ(sum.matchers, std::vector<std::string>{"weight_md5"});
  ASSERT_EQ(sum.pairs, 1U);
  EXPECT_EQ(scalar(s, "SELECT my_data_path LIKE '%0_LinearOperation/after/outtensor0.bin' FROM report"), "1");
  EXPECT_EQ(scalar(s, "SELECT data_id FROM pairs"), md5);
  // Both inputs were hashed and the hashes kept.
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM blobs WHERE md5 IS NOT NULL"), "2");
}

}  // namespace
}  // namespace aitdb
