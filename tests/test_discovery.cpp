// Dump discovery (docs/discovery.md) and freshness of ingested sources.
#include <gtest/gtest.h>

#include <chrono>
#include <map>

#include "aitdb/ingest/discover.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/schema/errors.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

namespace fs = std::filesystem;
using test::TempDir;
using test::write_file;

std::string one(Store& s, const std::string& sql) {
  std::string out = "<none>";
  s.execute(sql, {}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) {
    if (std::holds_alternative<std::int64_t>(r[0])) out = std::to_string(std::get<std::int64_t>(r[0]));
    else if (std::holds_alternative<std::string>(r[0])) out = std::get<std::string>(r[0]);
  });
  return out;
}

std::string f32_bin(std::vector<float> v) {
  return test::atb_bin(0, {static_cast<std::int64_t>(v.size())}, test::bytes_of(v));
}
std::string f32_npy(std::vector<float> v) {
  return test::npy("<f4", {static_cast<std::int64_t>(v.size())}, test::bytes_of(v));
}

// An ATB rank with `tokens` token folders of one op each.
void atb_rank(const fs::path& rank, int tokens, float value = 1) {
  for (int t = 0; t < tokens; ++t) {
    write_file(rank / std::to_string(t) / "0_Gather/before/intensor0.bin", f32_bin({value, 2}));
    write_file(rank / std::to_string(t) / "0_Gather/after/outtensor0.bin", f32_bin({value, 3}));
  }
}

void torch_rank(const fs::path& rank) {
  write_file(rank / "model_tree.json", R"({"name":"root","type":"M","children":[{"name":"root.lm","type":"Linear"}]})");
  write_file(rank / "0/root.lm/input_0.npy", f32_npy({1, 2}));
  write_file(rank / "0/root.lm/output.npy", f32_npy({3, 4}));
}

std::map<std::string, std::string> names_and_flavours(const Discovery& d) {
  std::map<std::string, std::string> out;
  for (const auto& r : d.roots) out[r.name] = r.flavour;
  return out;
}

TEST(Discovery, OutputFolderWithDumpsOfEveryFlavourGivesOneRunEach) {
  TempDir d;
  const auto out = d / "output";
  atb_rank(out / "msit_dump_20250101_000000/tensors/0_100", 2);
  write_file(out / "msit_dump_20250101_000000/layer/100/Gather_0.json", R"({"opName":"Gather_0","opType":"Gather"})");
  torch_rank(out / "msit_dump_20250101_000001/torch_tensors/npu0_200");
  // md5 era: thread_{pid} rank folders, MD5 placeholders for inputs.
  write_file(out / "old/tensors/thread_300/0/0_Runner/after/outTensor0.bin", f32_bin({5}));
  write_file(out / "old/tensors/thread_300/0/0_Runner/before/d41d8cd98f00b204e9800998ecf8427e", std::string());
  write_file(out / "400_cmp_dump_data/golden_tensor/0/data_1_tensor.npy", f32_npy({6}));
  write_file(out / "400_cmp_dump_data/golden_tensor/metadata.json", R"({"data_1": {"0": ["a.npy", "b.bin"]}})");
  write_file(out / "loose/a.npy", f32_npy({7}));
  write_file(out / "loose/b.npy", f32_npy({8}));
  write_file(out / "readme.txt", "not a dump");
  // Two roots with one folder name are told apart by their path below the output folder.
  atb_rank(out / "a/msit_dump/tensors/0_1", 1);
  atb_rank(out / "b/msit_dump/tensors/0_1", 1);

  const auto found = discover_dumps(out);
  const std::map<std::string, std::string> expected{{"msit_dump_20250101_000000", "atb_tree"},
                                                    {"msit_dump_20250101_000001", "torch_tree"},
                                                    {"old", "atb_tree"},
                                                    {"400_cmp_dump_data/golden_tensor", "dump_data"},
                                                    {"loose", "files"},
                                                    {"a/msit_dump", "atb_tree"},
                                                    {"b/msit_dump", "atb_tree"}};
  EXPECT_EQ(names_and_flavours(found), expected);

  Store s((d / "w.db").string());
  const auto all = ingest_all(s, out, {});
  ASSERT_EQ(all.runs.size(), expected.size());
  for (const auto& r : all.runs) {
    EXPECT_FALSE(r.unchanged) << r.run_name;
    EXPECT_GT(r.tensors, 0U) << r.run_name;
    EXPECT_EQ(one(s, "SELECT flavour FROM runs WHERE name = '" + r.run_name + "'"), expected.at(r.run_name));
  }
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'old' AND t.md5 IS NOT NULL"), "1");
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'loose'"), "2");
  // The output folder itself is no run: its text file is nowhere.
  EXPECT_EQ(one(s, "SELECT count(*) FROM files WHERE rel_path LIKE '%readme.txt'"), "0");
}

TEST(Discovery, AtbAndTorchTreesInOneDumpFolderAreTwoRunsSharingNoFile) {
  TempDir d;
  const auto dump = d / "msit_dump_20250101_000000";
  atb_rank(dump / "tensors/0_7", 1);
  write_file(dump / "model/7/Model.json", R"({"modelName":"M"})");
  torch_rank(dump / "torch_tensors/npu0_7");
  Store s((d / "w.db").string());
  const auto all = ingest_all(s, dump, {});
  ASSERT_EQ(all.runs.size(), 2U);
  EXPECT_EQ(all.runs[0].run_name, "msit_dump_20250101_000000");
  EXPECT_EQ(all.runs[0].flavour, "atb_tree");
  EXPECT_EQ(all.runs[1].run_name, "msit_dump_20250101_000000/torch_tensors");
  EXPECT_EQ(all.runs[1].flavour, "torch_tree");
  EXPECT_EQ(one(s, "SELECT count(*) FROM files f1 JOIN runs r1 ON r1.id = f1.run_id, files f2 JOIN runs r2 ON "
                   "r2.id = f2.run_id WHERE r1.id < r2.id AND r1.source_root || '/' || f1.rel_path = "
                   "r2.source_root || '/' || f2.rel_path"),
            "0");
  EXPECT_EQ(one(s, "SELECT count(*) FROM files WHERE run_id = " + std::to_string(all.runs[0].run_id) +
                   " AND rel_path LIKE 'torch_tensors/%'"),
            "0");
  EXPECT_EQ(one(s, "SELECT count(*) FROM tensors WHERE run_id = " + std::to_string(all.runs[1].run_id)), "2");
  // ingest_path wants one dump and says which ones it found.
  try {
    ingest_path(s, dump, {});
    FAIL() << "two dumps taken for one";
  } catch (const FormatError& e) {
    EXPECT_NE(e.reason().find("holds 2 dumps: msit_dump_20250101_000000 (atb_tree), "
                              "msit_dump_20250101_000000/torch_tensors (torch_tree)"),
              std::string::npos)
        << e.reason();
  }
}

TEST(Discovery, PathInsideADumpKeepsThatRankAndTokenPlusTopology) {
  TempDir d;
  const auto dump = d / "msit_dump_X";
  atb_rank(dump / "tensors/0_35570", 3);
  atb_rank(dump / "tensors/1_35571", 3);
  write_file(dump / "layer/35570/Gather_0.json", R"({"opName":"Gather_0","opType":"Gather"})");
  write_file(dump / "tensors/0_35570/2/0_Gather/op_param.json", "{}\n");
  Store s((d / "w.db").string());
  const auto rep = ingest_path(s, dump / "tensors/0_35570/2/", {});
  EXPECT_EQ(rep.run_name, "msit_dump_X/tensors/0_35570/2");
  EXPECT_EQ(rep.source_root, fs::canonical(dump).string());
  EXPECT_EQ(rep.tensors, 2U);
  EXPECT_EQ(one(s, "SELECT count(*) FROM files WHERE rel_path LIKE 'tensors/%' AND rel_path NOT LIKE 'tensors/0_35570/2/%'"),
            "0");
  EXPECT_EQ(one(s, "SELECT count(*) FROM files WHERE rel_path = 'layer/35570/Gather_0.json'"), "1");
  EXPECT_EQ(one(s, "SELECT group_concat(DISTINCT token) FROM tensors"), "2");
  // The same path again: the same run, reused.
  EXPECT_TRUE(ingest_path(s, dump / "tensors/0_35570/2", {}).unchanged);
  // A deeper path (one op of that token) is a run of its own.
  const auto op = ingest_path(s, dump / "tensors/0_35570/1/0_Gather", {});
  EXPECT_EQ(op.run_name, "msit_dump_X/tensors/0_35570/1/0_Gather");
  EXPECT_EQ(op.tensors, 2U);
}

TEST(Discovery, FolderWithNothingRecognisedIsAnErrorAndStoresNothing) {
  TempDir d;
  write_file(d / "notes/a.txt", "hello");
  write_file(d / "notes/sub/b.txt", "world");
  Store s((d / "w.db").string());
  try {
    ingest_all(s, d / "notes", {});
    FAIL() << "an unrecognised folder was accepted";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), (d / "notes").string());
    EXPECT_NE(e.reason().find("no dump found"), std::string::npos);
    EXPECT_NE(e.reason().find("torch_tensors"), std::string::npos);
  }
  EXPECT_EQ(one(s, "SELECT count(*) FROM runs"), "0");
}

TEST(Discovery, SearchStaysWithinItsLimits) {
  TempDir d;
  atb_rank(d / "top/1/2/3/4/5/6/7/msit_dump/tensors/0_1", 1);  // deeper than the search goes
  atb_rank(d / "top/x/msit_dump/tensors/0_1", 1);
  const auto found = discover_dumps(d / "top");
  ASSERT_EQ(found.roots.size(), 1U);
  EXPECT_EQ(found.roots[0].name, "msit_dump");
  ASSERT_EQ(found.notes.size(), 1U);
  EXPECT_NE(found.notes[0].find("deeper than 6 levels"), std::string::npos);
  // Loose files seen in a search cut short: not the whole folder as one run.
  write_file(d / "top2/1/2/3/4/5/6/7/8/b.npy", f32_npy({1}));
  write_file(d / "top2/x/a.npy", f32_npy({1}));
  try {
    discover_dumps(d / "top2");
    FAIL() << "a search cut short took the whole folder";
  } catch (const FormatError& e) {
    EXPECT_NE(e.reason().find("give that folder"), std::string::npos) << e.reason();
  }
  DiscoveryLimits tiny;
  tiny.max_dirs = 2;
  try {
    discover_dumps(d / "top", tiny);
    FAIL() << "the directory limit was not applied";
  } catch (const FormatError& e) {
    EXPECT_NE(e.reason().find("no dump found; search stopped after listing 2 directories"), std::string::npos)
        << e.reason();
  }
}

void set_mtime(const fs::path& p, int seconds_later) {
  fs::last_write_time(p, fs::last_write_time(p) + std::chrono::seconds(seconds_later));
}

TEST(Freshness, ChangedSourceIsReingestedAndUnchangedOneReused) {
  TempDir d;
  const auto dump = d / "msit_dump_F";
  atb_rank(dump / "tensors/0_1", 2);
  Store s((d / "w.db").string());
  const auto first = ingest_path(s, dump, {});
  EXPECT_FALSE(first.unchanged);
  const auto again = ingest_path(s, dump, {});
  EXPECT_TRUE(again.unchanged);
  EXPECT_TRUE(again.same_source);
  EXPECT_FALSE(again.refreshed);
  EXPECT_EQ(again.run_id, first.run_id);

  // A file rewritten with a new size.
  write_file(dump / "tensors/0_1/1/0_Gather/after/outtensor0.bin", f32_bin({9, 9, 9}));
  const auto resized = ingest_path(s, dump, {});
  EXPECT_FALSE(resized.unchanged);
  ASSERT_TRUE(resized.refreshed);
  EXPECT_NE(resized.refreshed->find("source changed"), std::string::npos) << *resized.refreshed;
  EXPECT_EQ(one(s, "SELECT count(*) FROM runs"), "1");
  EXPECT_EQ(one(s, "SELECT max(numel) FROM tensors"), "3");

  // A file added.
  write_file(dump / "tensors/0_1/1/0_Gather/after/outtensor1.bin", f32_bin({1}));
  const auto added = ingest_path(s, dump, {});
  ASSERT_TRUE(added.refreshed);
  EXPECT_NE(added.refreshed->find("4 files when ingested, 5 now"), std::string::npos) << *added.refreshed;
  EXPECT_EQ(added.tensors, 5U);

  // Same size, new mtime: still a change.
  set_mtime(dump / "tensors/0_1/0/0_Gather/after/outtensor0.bin", 10);
  const auto touched = ingest_path(s, dump, {});
  ASSERT_TRUE(touched.refreshed);
  EXPECT_NE(touched.refreshed->find("modified"), std::string::npos) << *touched.refreshed;
  EXPECT_TRUE(ingest_path(s, dump, {}).unchanged);

  // A run stored by an older aitdb (no signature) is ingested again.
  s.execute("UPDATE runs SET options = '{}'", {}, [](const auto&) {}, [](const auto&) {});
  const auto older = ingest_path(s, dump, {});
  ASSERT_TRUE(older.refreshed);
  EXPECT_NE(older.refreshed->find("older aitdb"), std::string::npos);
  EXPECT_TRUE(ingest_path(s, dump, {}).unchanged);
}

TEST(DiscoveryCli, IngestNamesEachRunAndRefreshesChangedSources) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  atb_rank(d / "out/msit_dump_golden/tensors/0_1", 1, 1);
  atb_rank(d / "out/msit_dump_my/tensors/0_1", 1, 1);
  auto r = test::run_aitdb({"ingest", "--db", db, (d / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("run 'msit_dump_golden' (atb_tree) from " + fs::canonical(d / "out/msit_dump_golden").string()),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("run 'msit_dump_my' (atb_tree)"), std::string::npos) << r.out;
  // --run with several dumps is a prefix.
  r = test::run_aitdb({"ingest", "--db", db, "--run", "p", (d / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("run 'p/msit_dump_golden'"), std::string::npos) << r.out;

  const std::string gp = (d / "out/msit_dump_golden").string();
  const std::string mp = (d / "out/msit_dump_my").string();
  r = test::run_aitdb({"compare", "--db", db, "-gp", gp, "-mp", mp, "-o", d.path().string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "aitdb: wrote " + db + "\n");
  write_file(d / "out/msit_dump_my/tensors/0_1/0/0_Gather/after/outtensor0.bin", f32_bin({1, 3, 5}));
  // The changed run has a comparison: re-ingesting it would delete that, so only on request.
  r = test::run_aitdb({"compare", "--db", db, "-gp", gp, "-mp", mp, "-o", d.path().string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("run 'msit_dump_my': source changed since it was ingested"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("would delete the 1 comparison(s) that reference it (id 1): add --drop-comparisons"),
            std::string::npos)
      << r.err;
  r = test::run_aitdb({"compare", "--db", db, "-gp", gp, "-mp", mp, "-o", d.path().string(), "--drop-comparisons"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("run 'msit_dump_my': source changed since it was ingested"), std::string::npos) << r.err;
  EXPECT_NE(
      r.err.find("run 'msit_dump_my' replaced: deleted 1 comparison(s) that referenced it (--drop-comparisons): 1"),
      std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("ingested " + mp + " as run 'msit_dump_my'"), std::string::npos) << r.out;

  // Nothing recognised: bad input, naming what was looked for.
  write_file(d / "txt/a.txt", "x");
  r = test::run_aitdb({"ingest", "--db", db, (d / "txt").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no dump found: looked for ATB trees"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace aitdb::ingest
