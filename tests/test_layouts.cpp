#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "aitdb/ingest/discover.h"
#include "aitdb/ingest/layout.h"
#include "aitdb/schema/errors.h"
#include "dump_walker.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

const auto split = test::split_path;

TEST(AtbTreeLayout, ParsesRankTokenOpPathAndTensorName) {
  const auto l = make_atb_tree_layout({"tensors"});
  const auto c = l->classify(split(
      "tensors/0_35570/3/2_Prefill_layer/0_Attention/10_SelfAttentionOperation/before/intensor12_query.bin"));
  ASSERT_EQ(c.role, FileRole::Tensor);
  const auto& p = c.place;
  EXPECT_EQ(p.rank_key, "0_35570");
  EXPECT_EQ(p.device_id, 0);
  EXPECT_EQ(p.pid, 35570);
  EXPECT_EQ(p.token, 3);
  EXPECT_EQ(p.op_path, "2_0_10");
  EXPECT_EQ(p.op_names, R"(["Prefill_layer","Attention","SelfAttentionOperation"])");
  EXPECT_EQ(p.op_type, "SelfAttentionOperation");
  EXPECT_EQ(p.phase, "before");
  EXPECT_EQ(p.io, "in");
  EXPECT_EQ(p.io_index, 12);
  EXPECT_EQ(p.io_name, "query");
  ASSERT_TRUE(c.node);
  EXPECT_EQ(c.node->kind, "op");
  EXPECT_EQ(c.node->rank_key, "0_35570");
  EXPECT_EQ(c.node->folder, "3");
  EXPECT_EQ(c.node->id_path, "2_0_10");
  EXPECT_EQ(c.node->depth, 3);
  EXPECT_EQ(c.node->sibling_pos, 10);
}

TEST(AtbTreeLayout, OldNamesMd5PlaceholdersOpParamAndSideFiles) {
  const auto l = make_atb_tree_layout({"tensors"});
  auto c = l->classify(split("tensors/-1_7/0/0_Runner/after/outTensor0.bin"));
  EXPECT_EQ(c.place.device_id, -1);
  EXPECT_EQ(c.place.io, "out");
  c = l->classify(split("tensors/0_7/0/3_LinearOps/after/d41d8cd98f00b204e9800998ecf8427e"));
  EXPECT_EQ(c.role, FileRole::Tensor);
  EXPECT_EQ(c.place.io, "in");
  EXPECT_FALSE(c.place.io_index);
  c = l->classify(split("tensors/0_7/0/2_Prefill_layer/3_SplitOperation/op_param.json"));
  EXPECT_EQ(c.role, FileRole::OpParam);
  EXPECT_EQ(c.node->id_path, "2_3");
  EXPECT_EQ(l->classify(split("layer/7/Prefill_layer_2.json")).role, FileRole::Aux);
  EXPECT_EQ(l->classify(split("operation_io_tensors/7/operation_tensors_0.csv")).role, FileRole::Aux);
  EXPECT_EQ(l->classify(split("tiling/0_7/0/1_X/0_K/kernel_tilingdata.bin")).role, FileRole::Other);
}

TEST(TorchTreeLayout, ParsesModulesInputsOutputsAndWeights) {
  const auto l = make_torch_tree_layout({"torch_tensors"});
  auto c = l->classify(split("torch_tensors/npu0_7624/1/root.model.layers.0.mlp/input_2_1.pth"));
  ASSERT_EQ(c.role, FileRole::Tensor);
  EXPECT_EQ(c.place.rank_key, "npu0_7624");
  EXPECT_EQ(c.place.device_id, 0);
  EXPECT_EQ(c.place.pid, 7624);
  EXPECT_EQ(c.place.token, 1);
  EXPECT_EQ(c.place.op_path, "root.model.layers.0.mlp");
  EXPECT_EQ(c.place.io, "in");
  EXPECT_EQ(c.place.io_index, 2);
  EXPECT_EQ(c.place.io_subindex, 1);
  c = l->classify(split("torch_tensors/cpu_9/0/root.lm_head/output.pth"));
  EXPECT_EQ(c.place.device_id, -1);
  EXPECT_EQ(c.place.io, "out");
  EXPECT_EQ(c.place.io_index, 0);
  c = l->classify(split("torch_tensors/npu0_9/weights/root.lm_head.weight.pth"));
  EXPECT_EQ(c.place.io, "weight");
  EXPECT_EQ(c.place.op_path, "root.lm_head.weight");
  EXPECT_EQ(l->classify(split("torch_tensors/npu0_9/model_tree.json")).role, FileRole::Aux);
}

TEST(DumpWalker, NaturalOrderAndDeterminism) {
  std::vector<std::string> v{"outtensor10.bin", "outtensor2.bin", "10_X", "2_Y", "a", "outtensor1.bin"};
  std::sort(v.begin(), v.end(), natural_less);
  EXPECT_EQ(v, (std::vector<std::string>{"2_Y", "10_X", "a", "outtensor1.bin", "outtensor2.bin", "outtensor10.bin"}));
  EXPECT_TRUE(natural_less("007", "8"));
  test::TempDir d;
  for (const char* f : {"10/b", "2/a", "2/10", "2/9"}) test::write_file(d / f, "x");
  DumpWalker w(d.path(), std::nullopt);
  std::vector<std::string> seen;
  while (auto it = w.next()) seen.push_back(it->rel);
  EXPECT_EQ(seen, (std::vector<std::string>{"2/9", "2/10", "2/a", "10/b"}));
}

TEST(DumpWalker, SymlinksMayNotLeaveTheRoot) {
  test::TempDir outside;
  test::write_file(outside / "secret.bin", "x");
  test::TempDir d;
  test::write_file(d / "real/a.bin", "x");
  std::filesystem::create_symlink(outside / "secret.bin", d / "escape.bin");
  std::filesystem::create_symlink(d / "real/a.bin", d / "inside.bin");
  std::filesystem::create_directory_symlink(outside.path(), d / "escape_dir");
  std::filesystem::create_directory_symlink(d / "real", d / "loop");
  std::filesystem::create_symlink(d / "nowhere", d / "dangling.bin");
  DumpWalker w(d.path(), std::nullopt);
  std::map<std::string, std::string> seen;
  while (auto it = w.next()) seen[it->rel] = it->error.value_or("ok");
  EXPECT_NE(seen["escape.bin"].find("outside the dump root"), std::string::npos);
  EXPECT_NE(seen["escape_dir"].find("outside the dump root"), std::string::npos);
  EXPECT_EQ(seen["inside.bin"], "ok");
  EXPECT_EQ(seen["real/a.bin"], "ok");
  EXPECT_EQ(seen.count("loop"), 0U);  // a linked directory inside the root is walked at its real place
  EXPECT_NE(seen["dangling.bin"].find("dangling"), std::string::npos);
}

TEST(DiscoverDumps, RecognisesEveryRootShape) {
  test::TempDir d;
  test::write_file(d / "msit_dump_20250101_000000/tensors/0_1/0/0_Op/after/outtensor0.bin", "x");
  test::write_file(d / "msit_dump_20250101_000001/torch_tensors/npu0_1/model_tree.json", "{}");
  test::write_file(d / "plain/x.npy", "x");
  const auto only = [](const std::filesystem::path& p) {
    auto found = discover_dumps(p);
    EXPECT_EQ(found.roots.size(), 1U) << p;
    return std::move(found.roots.front());
  };
  EXPECT_EQ(only(d / "msit_dump_20250101_000000").flavour, "atb_tree");
  EXPECT_EQ(only(d / "msit_dump_20250101_000000/tensors").flavour, "atb_tree");
  // A rank folder inside its tree: the tree's root, walking that rank only.
  const auto rank = only(d / "msit_dump_20250101_000000/tensors/0_1");
  EXPECT_EQ(rank.flavour, "atb_tree");
  EXPECT_EQ(rank.root, std::filesystem::canonical(d / "msit_dump_20250101_000000"));
  EXPECT_EQ(rank.scope.kept, "tensors/0_1");
  EXPECT_EQ(rank.name, "msit_dump_20250101_000000/tensors/0_1");
  EXPECT_EQ(only(d / "msit_dump_20250101_000001").flavour, "torch_tree");
  const auto torch_rank = only(d / "msit_dump_20250101_000001/torch_tensors/npu0_1");
  EXPECT_EQ(torch_rank.flavour, "torch_tree");
  EXPECT_EQ(torch_rank.scope.kept, "torch_tensors/npu0_1");
  EXPECT_EQ(only(d / "plain").flavour, "files");
  // A rank folder copied out of its tree: its name is the rank component.
  test::write_file(d / "copy/0_5/0/0_Op/after/outtensor0.bin", "x");
  const auto copied = only(d / "copy/0_5");
  EXPECT_EQ(copied.implicit_prefix, (std::vector<std::string>{"0_5"}));
  EXPECT_THROW(discover_dumps(d / "missing"), Error);
  EXPECT_THROW(discover_dumps(d / "plain/x.npy"), Error);  // "x" is not a tensor file
}

TEST(WalkScope, SkipsOtherRanksAndTokensButKeepsSideTrees) {
  WalkScope s;
  s.kept = "tensors/0_1/2";
  s.kept_within = "tensors";
  EXPECT_FALSE(s.skips("tensors"));
  EXPECT_FALSE(s.skips("tensors/0_1"));
  EXPECT_FALSE(s.skips("tensors/0_1/2"));
  EXPECT_FALSE(s.skips("tensors/0_1/2/0_Op"));
  EXPECT_TRUE(s.skips("tensors/0_1/1"));
  EXPECT_TRUE(s.skips("tensors/0_1/20"));
  EXPECT_TRUE(s.skips("tensors/1_1"));
  EXPECT_FALSE(s.skips("layer"));
  EXPECT_FALSE(s.skips("layer/1"));
  WalkScope e;
  e.excluded = {"torch_tensors"};
  EXPECT_TRUE(e.skips("torch_tensors"));
  EXPECT_FALSE(e.skips("tensors"));
}

}  // namespace
}  // namespace aitdb::ingest
