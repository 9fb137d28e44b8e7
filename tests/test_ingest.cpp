#include <gtest/gtest.h>

#include "aitdb/ingest/ingest.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

using test::TempDir;

std::vector<std::byte> fp16(const std::vector<float>& v) {
  std::vector<std::uint16_t> h;
  for (const float f : v) h.push_back(test::f32_to_f16_bits(f));
  return test::bytes_of(h);
}

// Runs SQL and returns the rows as text (NULL as "NULL").
std::vector<std::vector<std::string>> rows(Store& s, const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  s.execute(sql, {}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) {
    std::vector<std::string> row;
    for (const auto& v : r) {
      if (std::holds_alternative<std::monostate>(v)) row.emplace_back("NULL");
      else if (std::holds_alternative<std::int64_t>(v)) row.push_back(std::to_string(std::get<std::int64_t>(v)));
      else if (std::holds_alternative<double>(v)) row.push_back(std::to_string(std::get<double>(v)));
      else if (std::holds_alternative<std::string>(v)) row.push_back(std::get<std::string>(v));
      else row.emplace_back("<blob>");
    }
    out.push_back(std::move(row));
  });
  return out;
}
std::string one(Store& s, const std::string& sql) {
  const auto r = rows(s, sql);
  return r.empty() || r[0].empty() ? "<none>" : r[0][0];
}

// A small but complete ATB dump: two tokens, nested ops, op params, a layer JSON, an MD5
// placeholder, a stats-only file, an alias file and one truncated tensor.
std::filesystem::path make_atb_dump(const TempDir& d) {
  const auto root = d / "msit_dump_20250220_083154";
  const auto t = root / "tensors" / "0_7624";
  using test::write_file;
  write_file(t / "0/0_WordEmbedding/0_GatherOperation/before/intensor0.bin",
             test::atb_bin(9, {3}, test::bytes_of(std::vector<std::int64_t>{5, 6, 7})));
  write_file(t / "0/0_WordEmbedding/0_GatherOperation/after/outtensor0.bin", test::atb_bin(1, {3, 2}, fp16({1, 2, 3, 4, 5, 6})));
  write_file(t / "0/0_WordEmbedding/0_GatherOperation/op_param.json", "{\"axis\":0}\n");
  write_file(t / "0/2_Prefill_layer/before/intensor0.bin", test::atb_bin(1, {2}, fp16({1, 1})));
  write_file(t / "0/2_Prefill_layer/0_Self_Attention/before/intensor10.bin", test::atb_bin(1, {2}, fp16({10, 10})));
  write_file(t / "0/2_Prefill_layer/0_Self_Attention/before/intensor2.bin", test::atb_bin(1, {2}, fp16({2, 2})));
  write_file(t / "0/2_Prefill_layer/0_Self_Attention/after/outtensor0.bin",
             test::atb_bin(27, {2}, test::bytes_of(std::string("\x80\x3f\x00\x40", 4))));
  write_file(t / "0/2_Prefill_layer/1_Mlp/after/outtensor0.bin",
             "$Version=1.0\n$Object.Count=0\n$Object.Length=0\nformat=2\ndtype=27\ndims=2\ndata=2_0_outtensor0.bin\n$End=1\n");
  write_file(t / "0/2_Prefill_layer/1_Mlp/before/d41d8cd98f00b204e9800998ecf8427e", std::string());
  write_file(t / "0/2_Prefill_layer/1_Mlp/after/outtensor1.bin", test::atb_bin_stats(1, {4}, "3.000000", "-1.000000", "0.500000", "4.000000"));
  std::string truncated = test::atb_bin(0, {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4}));
  write_file(t / "0/2_Prefill_layer/1_Mlp/after/outtensor2.bin", truncated.substr(0, truncated.size() - 5));
  write_file(t / "1/2_Prefill_layer/before/intensor0.bin", test::atb_bin(1, {2}, fp16({1, 1})));  // same bytes as token 0
  write_file(root / "layer/7624/Prefill_layer_2.json", "{\"opName\":\"Prefill_layer_2\",\"nodes\":[]}\n");
  return root;
}

TEST(IngestAtbTree, StoresEveryTensorWithItsIdentity) {
  TempDir d;
  const auto root = make_atb_dump(d);
  Store s((d / "w.db").string());
  std::vector<std::string> errors;
  IngestOptions o;
  o.on_error = [&](const std::string& p, const std::string& r) { errors.push_back(p + ": " + r); };
  const auto rep = ingest_path(s, root, o);
  EXPECT_EQ(rep.run_name, "msit_dump_20250220_083154");
  EXPECT_EQ(rep.flavour, "atb_tree");
  EXPECT_EQ(rep.files, 13U);
  EXPECT_EQ(rep.tensors, 10U);
  EXPECT_EQ(rep.errors, 1U);
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_NE(errors[0].find("1_Mlp/after/outtensor2.bin: truncated payload"), std::string::npos) << errors[0];
  EXPECT_EQ(rep.dedup_blobs, 1U);  // token 1 repeats token 0's layer input
  EXPECT_EQ(one(s, "SELECT count(*) FROM ingest_errors"), "1");

  // Inputs of 2_0 come in numeric index order, with their op names per component.
  const auto in = rows(s, "SELECT io_index, op_names, op_type, phase, min FROM tensors WHERE op_path = '2_0' AND io = 'in' ORDER BY id");
  ASSERT_EQ(in.size(), 2U);
  EXPECT_EQ(in[0][0], "2");
  EXPECT_EQ(in[1][0], "10");
  EXPECT_EQ(in[0][1], R"(["Prefill_layer","Self_Attention"])");
  EXPECT_EQ(in[0][2], "Self_Attention");
  EXPECT_EQ(in[0][3], "before");
  EXPECT_EQ(in[1][4], "10.000000");
  EXPECT_EQ(one(s, "SELECT group_concat(DISTINCT rank_key || '/' || device_id || '/' || pid) FROM tensors"), "0_7624/0/7624");
  EXPECT_EQ(one(s, "SELECT group_concat(token) FROM tensors WHERE op_path = '2' AND io = 'in'"), "0,1");

  // The alias took the bytes and stats of 2_0's output; the MD5 placeholder and the stats-only
  // file are kept without bytes.
  EXPECT_EQ(one(s, "SELECT a.blob_key = b.blob_key AND a.max = b.max FROM tensors a, tensors b WHERE a.alias_of IS NOT NULL "
                   "AND b.op_path = '2_0' AND b.io = 'out'"),
            "1");
  EXPECT_EQ(one(s, "SELECT md5 || ' ' || io || ' ' || (blob_key IS NULL) FROM tensors WHERE source_kind = 'md5'"),
            "d41d8cd98f00b204e9800998ecf8427e in 1");
  EXPECT_EQ(one(s, "SELECT stats_source || ' ' || max || ' ' || l2norm FROM tensors WHERE op_path = '2_1' AND io_index = 1"),
            "file 3.0 4.0");
  EXPECT_EQ(one(s, "SELECT param FROM op_nodes WHERE id_path = '0_0'"), "{\"axis\":0}\n");
  // Op directories of both tokens, plus 0_WordEmbedding, which holds only a child directory.
  EXPECT_EQ(one(s, "SELECT group_concat(folder || ':' || id_path || ':' || name, ' ') FROM "
                   "(SELECT * FROM op_nodes WHERE kind = 'op' ORDER BY folder, exec_order)"),
            "0:0_0:GatherOperation 0:0:WordEmbedding 0:2_0:Self_Attention 0:2_1:Mlp 0:2:Prefill_layer 1:2:Prefill_layer");
  EXPECT_EQ(one(s, "SELECT count(*) FROM op_nodes n JOIN op_nodes p ON p.id = n.parent_id WHERE n.kind = 'op'"), "3");
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors WHERE op_node_id IS NULL"), "0");
  EXPECT_EQ(one(s, "SELECT id_path || ' ' || op_name FROM graph_ops"), "2 Prefill_layer_2");
  EXPECT_EQ(one(s, "SELECT content FROM files WHERE rel_path = 'layer/7624/Prefill_layer_2.json'"),
            "{\"opName\":\"Prefill_layer_2\",\"nodes\":[]}\n");
  EXPECT_EQ(one(s, "SELECT status FROM files WHERE rel_path LIKE '%outtensor2.bin'"), "error");
  EXPECT_EQ(one(s, "PRAGMA integrity_check"), "ok");
}

TEST(IngestAtbTree, ReingestReplaceStrictAndStatsOnly) {
  TempDir d;
  const auto root = make_atb_dump(d);
  Store s((d / "w.db").string());
  const auto first = ingest_path(s, root, {});
  const auto again = ingest_path(s, root, {});
  EXPECT_TRUE(again.unchanged);
  EXPECT_TRUE(again.same_source);
  EXPECT_EQ(again.run_id, first.run_id);
  EXPECT_EQ(one(s, "SELECT count(*) FROM runs"), "1");

  IngestOptions replace;
  replace.replace = true;
  const auto replaced = ingest_path(s, root, replace);
  EXPECT_FALSE(replaced.unchanged);
  EXPECT_EQ(one(s, "SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors"), "10");

  IngestOptions strict;
  strict.strict = true;
  strict.run_name = "strict";
  try {
    ingest_path(s, root, strict);
    FAIL() << "strict ingest accepted a truncated file";
  } catch (const FormatError& e) {
    EXPECT_NE(e.path().find("outtensor2.bin"), std::string::npos);
  }
  EXPECT_EQ(one(s, "SELECT count(*) FROM runs WHERE name = 'strict'"), "0");
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors"), "10");

  IngestOptions stats;
  stats.stats_only = true;
  stats.run_name = "stats";
  const auto st = ingest_path(s, root, stats);
  EXPECT_EQ(st.new_blobs, 0U);
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'stats' AND "
                   "t.blob_key IS NULL AND t.stats_source = 'computed'"),
            "8");  // 7 tensors with bytes + the alias, resolved to its target's statistics
}

TEST(IngestAtbTree, RankDirectoryGivenDirectlyAndSingleFiles) {
  TempDir d;
  const auto root = make_atb_dump(d);
  Store s((d / "w.db").string());
  // A rank folder inside its tree: the tree's root, walking only that rank (docs/discovery.md).
  const auto rep = ingest_path(s, root / "tensors" / "0_7624", {});
  EXPECT_EQ(rep.run_name, "msit_dump_20250220_083154/tensors/0_7624");
  EXPECT_EQ(one(s, "SELECT count(DISTINCT op_path) FROM tensors WHERE op_path GLOB '[0-9]*'"), "4");
  const auto file = root / "tensors/0_7624/0/0_WordEmbedding/0_GatherOperation/after/outtensor0.bin";
  const auto single = ingest_path(s, file, {});
  EXPECT_EQ(single.run_name, "outtensor0.bin");
  EXPECT_EQ(single.flavour, "atb_bin");
  EXPECT_EQ(single.tensors, 1U);
  EXPECT_EQ(single.dedup_blobs, 1U);  // the same bytes came in with the rank directory
}

TEST(IngestAtbTree, SymlinksInsideAreFollowedAndEscapesRecorded) {
  TempDir d;
  TempDir outside;
  test::write_file(outside / "secret.bin", test::atb_bin(0, {1}, test::bytes_of(std::vector<float>{42})));
  const auto root = make_atb_dump(d);
  const auto op = root / "tensors/0_7624/0/0_WordEmbedding/0_GatherOperation/after";
  std::filesystem::create_symlink(op / "outtensor0.bin", op / "outtensor1.bin");
  std::filesystem::create_symlink(outside / "secret.bin", op / "outtensor2.bin");
  Store s((d / "w.db").string());
  std::vector<std::string> errors;
  IngestOptions o;
  o.on_error = [&](const std::string& p, const std::string& r) { errors.push_back(p + ": " + r); };
  const auto rep = ingest_path(s, root, o);
  EXPECT_EQ(rep.errors, 2U);
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors WHERE op_path = '0_0' AND io = 'out'"), "2");
  EXPECT_NE(one(s, "SELECT reason FROM ingest_errors WHERE rel_path LIKE '%outtensor2.bin' AND rel_path LIKE '%0_Gather%'")
                .find("outside the dump root"),
            std::string::npos);
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors WHERE max = 42"), "0");
}

TEST(IngestTorchTree, KeysByModuleTokenAndFileName) {
  if (!test::have_torch()) GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
  TempDir d;
  ASSERT_EQ(test::run_python("make_torch_tree.py", {d.path().string()}), 0);
  Store s((d / "w.db").string());
  const auto rep = ingest_path(s, d / "msit_dump_20250101_000000", {});
  EXPECT_EQ(rep.flavour, "torch_tree");
  EXPECT_EQ(rep.errors, 0U);
  EXPECT_EQ(rep.tensors, 9U);
  const auto r = rows(s, "SELECT token, op_path, io, io_index, coalesce(io_subindex, '-'), device_id, pid, max FROM tensors "
                         "WHERE token = 1 AND op_path = 'root.layer' ORDER BY id");
  ASSERT_EQ(r.size(), 3U);
  EXPECT_EQ(r[0], (std::vector<std::string>{"1", "root.layer", "in", "0", "-", "0", "55", "2.000000"}));
  EXPECT_EQ(r[1], (std::vector<std::string>{"1", "root.layer", "in", "1", "0", "0", "55", "4.000000"}));
  EXPECT_EQ(r[2], (std::vector<std::string>{"1", "root.layer", "out", "0", "-", "0", "55", "2.000000"}));
  EXPECT_EQ(one(s, "SELECT io || io_index || ' ' || max FROM tensors WHERE token = 0 AND op_path = 'root'"), "out0 1.0");
  EXPECT_EQ(one(s, "SELECT op_path || ' ' || io || ' ' || dtype FROM tensors WHERE token IS NULL"),
            "root.layer.weight weight float32");
  EXPECT_NE(one(s, "SELECT content FROM files WHERE rel_path LIKE '%model_tree.json'").find("root.layer"), std::string::npos);
}

TEST(IngestFiles, PlainDirectoryOfMixedFiles) {
  TempDir d;
  test::write_file(d / "dump/a.npy", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(d / "dump/sub/w.safetensors",
                   test::safetensors({{"x", "F32", {1}, test::bytes_of(std::vector<float>{3})},
                                      {"y", "I32", {1}, test::bytes_of(std::vector<std::int32_t>{4})}}));
  test::write_file(d / "dump/notes.txt", "hello");
  test::write_file(d / "dump/garbage.bin", std::string("\x01\x02\x03\x04garbage", 11));
  Store s((d / "w.db").string());
  const auto rep = ingest_path(s, d / "dump", {});
  EXPECT_EQ(rep.flavour, "files");
  EXPECT_EQ(rep.tensors, 3U);
  EXPECT_EQ(rep.errors, 1U);
  EXPECT_EQ(one(s, "SELECT group_concat(op_path || ':' || coalesce(io_name, ''), ' ') FROM tensors"), "a: sub/w:x sub/w:y");
}

}  // namespace
}  // namespace aitdb::ingest
