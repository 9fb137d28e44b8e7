// The op graph built at ingest (nodes, parents, types, topology, execution order, logical tokens)
// and what matching and the first divergence make of it.
#include <gtest/gtest.h>

#include <fstream>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/query/output.h"
#include "aitdb/schema/ingest_transaction.h"
#include "aitdb/schema/store.h"
#include "op_graph/op_graph_builder.h"
#include "test_support.h"

namespace aitdb {
namespace {

using test::TempDir;
using test::ingest_as;
using test::scalar;

// An ATB layer with a topology JSON: 2_Prefill_layer holds 0_RmsNormOperation,
// 1_LinearOperation and 2_ElewiseOperation; the model JSON names types, params and tensors.
void write_atb_layer(const std::filesystem::path& root, const std::string& rank, float scale = 1.0F) {
  test::write_file(root / "model/7624/LlamaModel.json", R"({"modelName":"LlamaModel","nodes":[
    {"opName":"LlamaLayer_2","opType":"LlamaLayer","inTensors":["M_input_0"],"outTensors":["M_output_0"],
     "internalTensors":["LlamaLayer_2_internal_0","LlamaLayer_2_internal_1"],
     "nodes":[
      {"opName":"RmsNormOperation_2_0","opType":"RmsNormOperation","param":{"epsilon":1e-6},
       "inTensors":["M_input_0"],"outTensors":["LlamaLayer_2_internal_0"]},
      {"opName":"LinearOperation_2_1","opType":"LinearOperation","param":{"transposeB":true},
       "inTensors":["LlamaLayer_2_internal_0"],"outTensors":["LlamaLayer_2_internal_1"]},
      {"opName":"ElewiseOperation_2_2","opType":"ElewiseOperation","param":{"elewiseType":8},
       "inTensors":["LlamaLayer_2_internal_1","M_input_0"],"outTensors":["M_output_0"]}]}]})");
  const auto t = root / "tensors" / rank / "0";
  test::write_file(t / "2_Prefill_layer/0_RmsNormOperation/after/outtensor0.bin", test::atb_f32({1, 2, 3, 4}));
  test::write_file(t / "2_Prefill_layer/1_LinearOperation/after/outtensor0.bin", test::atb_f32({scale, 2, 3, 4}));
  test::write_file(t / "2_Prefill_layer/1_LinearOperation/op_param.json", "{\"transposeB\":true}\n");
  test::write_file(t / "2_Prefill_layer/2_ElewiseOperation/after/outtensor0.bin", test::atb_f32({scale, 2, 3, 5}));
  test::write_file(t / "2_Prefill_layer/after/outtensor0.bin", test::atb_f32({scale, 2, 3, 5}));
}

TEST(OpGraphAtb, TopologyGivesTypesParamsEdgesAndOrder) {
  TempDir d;
  write_atb_layer(d / "dump", "0_7624");
  Store s((d / "w.db").string());
  ingest_as(s, d / "dump", "r");
  EXPECT_EQ(scalar(s, "SELECT group_concat(id_path || '=' || type || '@' || exec_order, ' ') FROM "
                      "(SELECT * FROM op_nodes ORDER BY exec_order)"),
            "2_0=RmsNormOperation@0 2_1=LinearOperation@1 2_2=ElewiseOperation@2 2=LlamaLayer@3");
  // The op directory's own op_param.json wins over the topology's param.
  EXPECT_EQ(scalar(s, "SELECT param FROM op_nodes WHERE id_path = '2_1'"), "{\"transposeB\":true}\n");
  EXPECT_EQ(scalar(s, "SELECT param FROM op_nodes WHERE id_path = '2_2'"), "{\"elewiseType\":8}");
  EXPECT_EQ(scalar(s, "SELECT group_concat(p.id_path, ',') FROM op_nodes n JOIN op_nodes p ON p.id = n.parent_id"),
            "2,2,2");
  // Dataflow between siblings, by tensor name.
  EXPECT_EQ(scalar(s, "SELECT group_concat(a.id_path || '->' || b.id_path || ':' || e.tensor_name, ' ') FROM "
                      "(SELECT * FROM op_edges ORDER BY rowid) e JOIN graph_ops a ON a.id = e.src_op "
                      "JOIN graph_ops b ON b.id = e.dst_op"),
            "2_0->2_1:LlamaLayer_2_internal_0 2_1->2_2:LlamaLayer_2_internal_1");
  EXPECT_EQ(scalar(s, "SELECT rank_index || device_id || pid || model_graphs || warmup_remap FROM run_ranks"), "00762410");
}

TEST(OpGraphAtb, CopiedTreeWithFreshFileTimesKeepsItsOrder) {
  TempDir d;
  write_atb_layer(d / "dump", "0_7624");
  // Reverse the file times: the oldest file is now the layer output.
  std::filesystem::file_time_type t = std::filesystem::file_time_type::clock::now();
  for (const auto& e : std::filesystem::recursive_directory_iterator(d / "dump")) {
    if (e.is_regular_file()) std::filesystem::last_write_time(e.path(), t -= std::chrono::hours(1));
  }
  std::filesystem::copy(d / "dump", d / "copy", std::filesystem::copy_options::recursive);
  Store s((d / "w.db").string());
  ingest_as(s, d / "dump", "a");
  ingest_as(s, d / "copy", "b");
  const std::string order = "SELECT group_concat(id_path, ' ') FROM (SELECT n.id_path FROM op_nodes n JOIN runs r ON "
                            "r.id = n.run_id WHERE r.name = '%' ORDER BY n.exec_order)";
  auto q = [&](const char* run) {
    std::string sql = order;
    sql.replace(sql.find('%'), 1, run);
    return scalar(s, sql);
  };
  EXPECT_EQ(q("a"), "2_0 2_1 2_2 2");
  EXPECT_EQ(q("b"), q("a"));
}

TEST(OpGraphAtb, OneModelGraphPerRankIsNoWarmup) {
  TempDir d;
  // Two ranks, each with its own single model JSON: folder 0 is token 0 on both.
  for (const char* side : {"g", "m"}) {
    for (const char* pid : {"100", "101"}) {
      const auto root = d / side;
      test::write_file(root / "model" / pid / "LlamaModel.json", R"({"modelName":"M","nodes":[{"opName":"Layer_2"}]})");
      test::write_file(root / "tensors" / (std::string(pid == std::string("100") ? "0_" : "1_") + pid) /
                           "0/2_Layer/after/outtensor0.bin",
                       test::atb_f32({1, 2}));
    }
  }
  Store s((d / "w.db").string());
  ingest_as(s, d / "g", "g");
  ingest_as(s, d / "m", "m");
  const auto sum = compare::compare_runs(s, "g", "m", {});
  EXPECT_EQ(sum.pairs, 2U);
  EXPECT_TRUE(sum.notes.empty());
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM op_nodes WHERE warmup = 1"), "0");
}

TEST(OpGraphAtb, WarmupRemapIsStatedPerRank) {
  TempDir d;
  for (const char* side : {"g", "m"}) {
    const auto root = d / side;
    test::write_file(root / "model/100/P.json", R"({"modelName":"P","nodes":[{"opName":"Prefill_layer_2"}]})");
    test::write_file(root / "model/100/D.json", R"({"modelName":"D","nodes":[{"opName":"Decoder_layer_3"}]})");
    test::write_file(root / "tensors/0_100/0/2_Prefill_layer/after/outtensor0.bin", test::atb_f32({9, 9}));
    test::write_file(root / "tensors/0_100/1/2_Prefill_layer/after/outtensor0.bin", test::atb_f32({1, 2}));
    test::write_file(root / "tensors/0_100/1/3_Decoder_layer/after/outtensor0.bin", test::atb_f32({3, 4}));
  }
  Store s((d / "w.db").string());
  ingest::IngestOptions o;
  o.run_name = "g";
  const auto rep = ingest::ingest_path(s, d / "g", o);
  ASSERT_EQ(rep.notes.size(), 1U);
  EXPECT_NE(rep.notes[0].find("rank 0_100: 2 model graphs"), std::string::npos) << rep.notes[0];
  ingest_as(s, d / "m", "m");
  const auto sum = compare::compare_runs(s, "g", "m", {});
  EXPECT_EQ(sum.pairs, 2U);
  ASSERT_EQ(sum.notes.size(), 2U);  // one per run
  EXPECT_NE(sum.notes[0].find("g rank 0_100: prefill + decode graphs"), std::string::npos) << sum.notes[0];
  EXPECT_EQ(scalar(s, "SELECT group_concat(token || ':' || id_path, ' ') FROM (SELECT * FROM op_nodes n JOIN runs r ON "
                      "r.id = n.run_id WHERE r.name = 'g' AND warmup = 0 ORDER BY token)"),
            "0:2 1:3");
}

// Rule 3 pairs a type group only where both sides hold the same number of it.
TEST(OpGraphAtb, TypeGroupsOfDifferentSizeDoNotPairByRank) {
  TempDir d;
  auto write = [&](const char* side, std::initializer_list<int> linear_ids) {
    const auto t = d / side / "tensors/0_1/0/2_Block";
    test::write_file(t / "after/outtensor0.bin", test::atb_f32({1, 2}));
    for (const int id : linear_ids) {
      test::write_file(t / (std::to_string(id) + "_LinearOperation/after/outtensor0.bin"), test::atb_f32({1, float(id)}));
    }
  };
  write("g", {0, 1});
  write("m", {1, 2, 3});
  Store s((d / "w.db").string());
  ingest_as(s, d / "g", "g");
  ingest_as(s, d / "m", "m");
  const auto sum = compare::compare_runs(s, "g", "m", {});
  // The block, and 2_1 with 2_1 by equal path; 2 Linear ops facing 3 are not paired by rank.
  EXPECT_EQ(sum.pairs, 2U);
  EXPECT_EQ(scalar(s, "SELECT group_concat(x, ' ') FROM (SELECT gn.id_path || '=' || mn.id_path AS x FROM pairs p "
                      "JOIN tensors g ON g.id = p.golden_tensor_id JOIN tensors m ON m.id = p.my_tensor_id "
                      "JOIN op_nodes gn ON gn.id = g.op_node_id JOIN op_nodes mn ON mn.id = m.op_node_id ORDER BY x)"),
            "2=2 2_1=2_1");
}

TEST(OpGraphAtb, SaveTimeTwoBeforeOutputsAreNeverPaired) {
  TempDir d;
  for (const char* side : {"g", "m"}) {
    const auto t = d / side / "tensors/0_1/0/0_LinearOperation";
    test::write_file(t / "before/intensor0.bin", test::atb_f32({1, 2}));
    test::write_file(t / "before/outtensor0.bin", test::atb_f32(side == std::string("g") ? std::vector<float>{0, 0} : std::vector<float>{7, -7}));
    test::write_file(t / "after/intensor0.bin", test::atb_f32({1, 2}));
    test::write_file(t / "after/outtensor0.bin", test::atb_f32({3, 4}));
  }
  Store s((d / "w.db").string());
  ingest_as(s, d / "g", "g");
  ingest_as(s, d / "m", "m");
  compare::CompareOptions o;
  auto sum = compare::compare_runs(s, "g", "m", o);
  EXPECT_EQ(sum.pairs, 1U);  // after/outtensor0 only: the stale before/outtensor0 differs but is no output
  EXPECT_FALSE(sum.first_divergence);
  EXPECT_EQ(sum.unpaired_golden, 0U);
  o.include_inputs = true;
  sum = compare::compare_runs(s, "g", "m", o);
  EXPECT_EQ(sum.pairs, 3U);  // plus the inputs, before with before and after with after
}

TEST(OpGraphRanks, CpuGoldenPairsWithNpuRunByRankOrder) {
  TempDir d;
  test::write_file(d / "g/torch_tensors/cpu_500/0/root.fc/output.pth", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(d / "m/torch_tensors/npu3_900/0/root.fc/output.pth", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(d / "m/torch_tensors/npu3_900/0/root.extra/output.pth", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{5, 2})));
  Store s((d / "w.db").string());
  ingest_as(s, d / "g", "g");
  ingest_as(s, d / "m", "m");
  EXPECT_EQ(scalar(s, "SELECT group_concat(rank_key || ':' || coalesce(device_kind, '-') || ':' || coalesce(device_id, '-'), ' ') "
                      "FROM run_ranks"),
            "cpu_500:cpu:- npu3_900:npu:3");
  auto sum = compare::compare_runs(s, "g", "m", {});
  EXPECT_EQ(sum.pairs, 1U);
  EXPECT_EQ(sum.unpaired_my, 1U);
  EXPECT_EQ(sum.unpaired_golden, 0U);
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM unpaired_tensors WHERE side = 'my' AND id_path = 'root.extra'"), "1");
  ASSERT_FALSE(sum.notes.empty());
  EXPECT_NE(sum.notes.back().find("rank cpu_500 (golden) paired with rank npu3_900 (my) by rank order"), std::string::npos);
  compare::CompareOptions o;
  o.rank_map = R"({"cpu_500":"3"})";  // my rank named by device id
  sum = compare::compare_runs(s, "g", "m", o);
  EXPECT_EQ(sum.pairs, 1U);
}

TEST(OpGraphTorch, ModuleTreeGivesParentsTypesAndPostOrder) {
  TempDir d;
  const auto r = d / "dump/torch_tensors/cpu_1";
  test::write_file(r / "model_tree.json", R"({"name":"root","type":"Net","children":[
     {"name":"root.norm","type":"RMSNorm","children":[]},
     {"name":"root.block","type":"Block","children":[
       {"name":"root.block.mlp","type":"MLP","children":[]},
       {"name":"root.block.attn","type":"Attention","children":[]}]}]})");
  const auto x = test::npy("<f4", {1}, test::bytes_of(std::vector<float>{1}));
  for (const char* m : {"root", "root.norm", "root.block.mlp", "root.block.attn"}) test::write_file(r / "0" / m / "output.pth", x);
  Store s((d / "w.db").string());
  ingest_as(s, d / "dump", "t");
  // root.block was not dumped but belongs to the graph; children in their completion order,
  // every parent after its children.
  EXPECT_EQ(scalar(s, "SELECT group_concat(n.id_path || ':' || n.type || '<' || coalesce(p.id_path, '-'), ' ') FROM "
                      "(SELECT * FROM op_nodes ORDER BY exec_order) n LEFT JOIN op_nodes p ON p.id = n.parent_id"),
            "root.norm:RMSNorm<root root.block.mlp:MLP<root.block root.block.attn:Attention<root.block "
            "root.block:Block<root root:Net<-");
  EXPECT_EQ(scalar(s, "SELECT group_concat(DISTINCT token) FROM op_nodes"), "0");
}

TEST(OpGraphTorch, ExplicitSequenceWinsOverTheTree) {
  TempDir d;
  const auto r = d / "dump/torch_tensors/cpu_1";
  test::write_file(r / "model_tree.json", R"({"name":"root","type":"Net","children":[
     {"name":"root.a","type":"A","children":[]},{"name":"root.b","type":"B","children":[]}]})");
  const auto x = test::npy("<f4", {1}, test::bytes_of(std::vector<float>{1}));
  for (const char* m : {"root", "root.a", "root.b"}) test::write_file(r / "0" / m / "output.pth", x);
  test::write_file(r / "0/aitdb_exec_order.txt", "root.b\nroot.a\nroot.b\nroot\n");
  Store s((d / "w.db").string());
  ingest_as(s, d / "dump", "t");
  EXPECT_EQ(scalar(s, "SELECT group_concat(id_path, ' ') FROM (SELECT * FROM op_nodes ORDER BY exec_order)"),
            "root.a root.b root");  // the last call of root.b came after root.a
}

// A real model dumped by the project's own hooks: golden float32 and a run whose layer 2
// mlp.down_proj weights were perturbed. The child that first diverges is named, not its parents.
TEST(OpGraphTorch, HooksDumpFirstDivergenceIsThePerturbedChild) {
  if (!test::have_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
  TempDir d;
  ASSERT_EQ(test::run_python("make_transformer_dumps.py", {(d / "out").string()}), 0);
  auto root_of = [&](const char* side) {
    for (const auto& e : std::filesystem::directory_iterator(d / "out" / side)) return e.path();
    return std::filesystem::path();
  };
  Store s((d / "w.db").string());
  ingest_as(s, root_of("golden"), "golden");
  ingest_as(s, root_of("my_perturbed"), "my");
  compare::CompareOptions o;
  o.cosine_threshold = 0.999;
  const auto sum = compare::compare_runs(s, "golden", "my", o);
  ASSERT_TRUE(sum.first_divergence);
  EXPECT_NE(sum.first_divergence->my.find("/0/root.model.layers.2.mlp.down_proj/output.pth"), std::string::npos)
      << sum.first_divergence->my;
  EXPECT_EQ(sum.first_divergence->token, 0);
  EXPECT_EQ(scalar(s, "SELECT my_data_path LIKE '%/0/root.model.layers.2.mlp.down_proj/output.pth' FROM first_divergence"), "1");
  // Everything that ran before it agrees exactly; its parents and the root diverge too.
  EXPECT_EQ(scalar(s, "SELECT min(cosine_similarity) > 0.9999999 FROM report WHERE seq < (SELECT seq FROM first_divergence)"),
            "1");
  EXPECT_EQ(scalar(s, "SELECT cosine_similarity < 0.999 FROM report WHERE my_data_path LIKE '%/0/root.model.layers.2.mlp/output.pth'"),
            "1");
  EXPECT_EQ(sum.failed, 0U);
  EXPECT_EQ(sum.unpaired_golden + sum.unpaired_my, 0U);
}

// Matching scales: 100k tensors per side written straight through the store (no files), two
// ranks, 50 tokens, 40 layers of 25 ops; my side shifts every layer's child ids by one (an
// inserted quant op), so pairs come from rule 3 rather than equal paths.
TEST(OpGraphScale, MatcherPairsHundredThousandTensorsPerSide) {
  TempDir d;
  Store s((d / "w.db").string());
  const auto blob = encode_blob(test::bytes_of(std::vector<float>{1, 2, 3, 4}), 4, 1);
  for (const char* run : {"g", "m"}) {
    IngestTransaction tx(s, RunSpec{run, "atb_tree", std::string("/x/") + run, "{}"}, false);
    tx.put_blob(blob);
    const bool shifted = std::string(run) == "m";
    for (int rank = 0; rank < 2; ++rank) {
      const std::string rank_key = std::to_string(rank) + "_" + std::to_string(100 + rank);
      for (int token = 0; token < 50; ++token) {
        for (int layer = 0; layer < 40; ++layer) {
          for (int op = 0; op < 25; ++op) {
            const int child = op + (shifted ? 1 : 0);
            OpNodeRow n = OpNodeRow::of("op", rank_key, std::to_string(token),
                                        std::to_string(layer) + "_" + std::to_string(child));
            n.names = R"(["Layer","LinearOperation"])";
            n.name = "LinearOperation";
            n.type = n.name;
            n.depth = 2;
            n.sibling_pos = child;
            TensorRow t;
            t.source_kind = "atb_bin";
            t.rank_key = rank_key;
            t.io = "out";
            t.io_index = 0;
            t.phase = "after";
            t.dtype = DType::Float32;
            t.shape = std::vector<std::int64_t>{4};
            t.numel = 4;
            t.nbytes = 16;
            t.blob_key = blob.key;
            t.op_node_id = tx.add_op_node(n);
            tx.add_tensor(t);
          }
        }
      }
    }
    ingest::build_op_graph(tx);
    tx.commit();
  }
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'm'"), "100000");
  compare::CompareOptions o;
  o.match = "path";
  o.match_only = true;  // pairing is what is tested; 100k identical 4-float pairs add nothing
  const auto sum = compare::compare_runs(s, "g", "m", o);
  EXPECT_EQ(sum.pairs, 100000U);
  EXPECT_EQ(sum.unpaired_golden + sum.unpaired_my, 0U);
  // Rule 3 paired each golden child with the my child one id further on.
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM pairs p JOIN tensors g ON g.id = p.golden_tensor_id JOIN tensors m ON "
                      "m.id = p.my_tensor_id JOIN op_nodes gn ON gn.id = g.op_node_id JOIN op_nodes mn ON mn.id = "
                      "m.op_node_id WHERE mn.sibling_pos = gn.sibling_pos + 1 AND mn.token = gn.token"),
            "100000");
  // Layer parents were created for every token and rank: 2 x 50 x 40 per run.
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM op_nodes n JOIN runs r ON r.id = n.run_id WHERE r.name = 'm' AND n.depth = 1"),
            "4000");
}

}  // namespace
}  // namespace aitdb
