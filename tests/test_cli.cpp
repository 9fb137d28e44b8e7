#include <gtest/gtest.h>

#include <sqlite3.h>

#include <bit>
#include <random>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/dtype.h"
#include "test_support.h"

namespace aitdb {
namespace {

using test::run_aitdb;
using test::TempDir;

bool contains(const std::string& hay, const std::string& needle) { return hay.find(needle) != std::string::npos; }

TEST(Cli, ExportTensorRoundTripsEveryDtypeBitExact) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  std::mt19937 rng(7);
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto t = static_cast<DType>(i);
    const auto& info = dtype_info(t);
    const std::vector<std::int64_t> dims{3, 5};
    std::vector<std::byte> payload(15 * info.itemsize);
    for (auto& b : payload) b = static_cast<std::byte>(t == DType::Bool ? rng() & 1U : rng() & 0xFFU);
    const std::string name = std::string(info.name) + ".bin";
    const std::string original = test::atb_bin(info.acl_code, dims, payload);
    test::write_file(d / "in" / name, original);
    const auto ing = run_aitdb({"ingest", "--db", db, (d / "in" / name).string()});
    ASSERT_EQ(ing.exit_code, 0) << name << ": " << ing.err;
    // .bin export reproduces the original file byte for byte.
    const auto out_bin = (d / ("out_" + name)).string();
    ASSERT_EQ(run_aitdb({"export-tensor", "--db", db, name + ":" + name, "-o", out_bin}).exit_code, 0);
    EXPECT_EQ(test::read_file(out_bin), original) << name;
    // .npy export carries the same bytes after a numpy header with the dtype's descr; dtypes numpy
    // lacks (bfloat16, float8) carry their values as float32 (BFloat16NpyExport checks those).
    if (info.numpy_descr.empty()) continue;
    const auto out_npy = (d / (std::string(info.name) + ".npy")).string();
    ASSERT_EQ(run_aitdb({"export-tensor", "--db", db, name + ":" + name, "-o", out_npy}).exit_code, 0);
    const std::string npy = test::read_file(out_npy);
    ASSERT_GE(npy.size(), payload.size());
    EXPECT_EQ(npy.size() % 64, payload.size() % 64) << "header must be 64-byte aligned";
    EXPECT_TRUE(contains(npy, "'descr': '" + std::string(info.numpy_descr) + "'")) << name;
    EXPECT_TRUE(contains(npy, "'shape': (3, 5)"));
    EXPECT_EQ(npy.substr(npy.size() - payload.size()), std::string(reinterpret_cast<const char*>(payload.data()), payload.size()))
        << name;
  }
  // The exported .npy reads back through aitdb's own reader to the same blob (dedup proves it).
  const auto again = run_aitdb({"ingest", "--db", db, "--run", "reimport", (d / "float16.npy").string()});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(contains(again.out, "0 new blobs, 1 deduplicated")) << again.out;
}

// numpy has no bfloat16: .npy export writes float32 values, exactly, which numpy loads as numbers
// and aitdb reads back to the same values (the .bin export keeps the original bytes).
TEST(Cli, BFloat16NpyExportLoadsInNumpyAndReadsBack) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  // 1.5, -2, 3.140625, 1e-40-ish subnormal, +inf, the largest finite bfloat16.
  const std::vector<std::uint16_t> bits{0x3FC0, 0xC000, 0x4049, 0x0001, 0x7F80, 0x7F7F};
  std::vector<float> expected;
  for (const auto b : bits) expected.push_back(std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16U));
  test::write_file(d / "in/bf16.bin", test::atb_bin(27, {2, 3}, test::bytes_of(bits)));
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, (d / "in/bf16.bin").string()}).exit_code, 0);
  const auto out = (d / "bf16.npy").string();
  const auto r = run_aitdb({"export-tensor", "--db", db, "bf16.bin:bf16.bin", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "numpy has no bfloat16")) << r.err;
  const auto back = ingest::read_npy(out, {});
  ASSERT_EQ(back.size(), 1U);
  EXPECT_EQ(back[0].dtype, DType::Float32);
  EXPECT_EQ(back[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(back[0].data, test::bytes_of(expected));
  // Debian's numpy loads it as float32 with the same values, bit for bit.
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no numpy";
  const std::string check =
      "/usr/bin/python3 -c 'import sys, numpy as np; a = np.load(sys.argv[1]); "
      "assert a.dtype == np.float32 and a.shape == (2, 3), a.dtype; "
      "assert a.view(np.uint32).ravel().tolist() == [int(x) << 16 for x in sys.argv[2:]], a' " +
      out;
  std::string cmd = check;
  for (const auto b : bits) cmd += " " + std::to_string(b);
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Finding: a damaged tensors.shape cell made export-tensor write a broken .npy with exit 0.
TEST(Cli, ExportRefusesAShapeThatDoesNotMatchTheBlob) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  test::write_file(d / "in/t.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4})));
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, (d / "in/t.npy").string()}).exit_code, 0);
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE tensors SET shape = '[5]'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  const auto r = run_aitdb({"export-tensor", "--db", db, "1", "-o", (d / "out.npy").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "needs 20 bytes but its blob holds 16")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d / "out.npy"));
  // show reads the same blob and refuses the same row.
  const auto shown = run_aitdb({"show", "--db", db, "1"});
  EXPECT_EQ(shown.exit_code, 1);
  EXPECT_TRUE(contains(shown.err, "needs 20 bytes but its blob holds 16")) << shown.err;
  // A wrong dtype cell is refused the same way.
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "UPDATE tensors SET shape = '[4]', dtype = 'float64'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  const auto r64 = run_aitdb({"export-tensor", "--db", db, "1", "-o", (d / "out.npy").string()});
  EXPECT_EQ(r64.exit_code, 1);
  EXPECT_TRUE(contains(r64.err, "needs 32 bytes but its blob holds 16")) << r64.err;
  EXPECT_FALSE(std::filesystem::exists(d / "out.npy"));
}

TEST(Cli, ExitCodesAndOneLineErrors) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  test::write_file(d / "dump/good.npy", test::npy("<f4", {1}, test::bytes_of(std::vector<float>{1})));
  test::write_file(d / "dump/bad.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1})));
  auto r = run_aitdb({"ingest", "--db", db, (d / "dump").string()});
  EXPECT_EQ(r.exit_code, 3);  // stored, but a file was skipped
  EXPECT_EQ(r.err, (d / "dump/bad.npy").string() + ": truncated payload: shape needs 16 bytes, file has 4\n" +
                       "aitdb: wrote " + std::filesystem::absolute(db).lexically_normal().string() + "\n");
  EXPECT_TRUE(contains(r.out, "1 files skipped"));

  r = run_aitdb({"ingest", "--db", db, "--strict", "--run", "s", (d / "dump").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "bad.npy: truncated payload")) << r.err;
  EXPECT_TRUE(contains(r.err, "nothing was stored"));
  EXPECT_FALSE(contains(run_aitdb({"runs", "--db", db}).out, " s "));

  r = run_aitdb({"ingest", "--db", db, (d / "missing").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "aitdb: " + (d / "missing").string() + ": no such file or directory\n");

  r = run_aitdb({"ingest", "--db", db, (d / "dump").string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "nothing changed"));

  r = run_aitdb({"ingest", "--db", db, "--run", "dump", (d / "dump/good.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "already exists from another source"));

  EXPECT_EQ(run_aitdb({}).exit_code, 2);
  EXPECT_EQ(run_aitdb({"ingest", "--db", db, "--run", "x", "a", "b"}).exit_code, 2);
  EXPECT_EQ(run_aitdb({"frobnicate"}).exit_code, 2);

  r = run_aitdb({"show", "--db", db, "999"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "aitdb: 999: no tensor with this id\n");
  r = run_aitdb({"show", "--db", (d / "nope.db").string(), "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "nope.db: no such database"));
  EXPECT_FALSE(std::filesystem::exists(d / "nope.db"));  // read-only commands never create one

  const auto out = (d / "x.npy").string();
  EXPECT_EQ(run_aitdb({"export-tensor", "--db", db, "dump:good.npy", "-o", out}).exit_code, 0);
  r = run_aitdb({"export-tensor", "--db", db, "dump:good.npy", "-o", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "already exists; not overwritten"));
  EXPECT_EQ(run_aitdb({"export-tensor", "--db", db, "dump:good.npy", "-o", (d / "x.txt").string()}).exit_code, 2);
}

TEST(Cli, QueryFormatsShowAndInfo) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  test::write_file(d / "v.npy", test::npy("<f4", {3}, test::bytes_of(std::vector<float>{0.5F, -1.0F, 10.0F})));
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, (d / "v.npy").string()}).exit_code, 0);

  auto r = run_aitdb({"query", "--db", db, "--format", "csv", "SELECT op_path, dtype, shape, max, mean FROM tensors"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "op_path,dtype,shape,max,mean\nv,float32,[3],10.0,3.1666666666666665\n");
  r = run_aitdb({"query", "--db", db, "--format", "csv", "SELECT 'a,b' AS \"x\"\"y\", 'say \"hi\"', NULL, 1e-05"});
  EXPECT_EQ(r.out, "\"x\"\"y\",\"'say \"\"hi\"\"'\",NULL,1e-05\n\"a,b\",\"say \"\"hi\"\"\",,1e-05\n");
  r = run_aitdb({"query", "--db", db, "-f", "json", "SELECT numel, min, md5 FROM tensors"});
  EXPECT_EQ(r.out, "[\n  {\"numel\":3,\"min\":-1.0,\"md5\":null}\n]\n");
  r = run_aitdb({"query", "--db", db, "SELECT 1 AS a, 'xy' AS bb"});
  EXPECT_EQ(r.out, "a  bb\n-  --\n1  xy\n");
  r = run_aitdb({"query", "--db", db, "SELECT * FROM nowhere"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "no such table: nowhere"));

  r = run_aitdb({"show", "--db", db, "v.npy:v.npy"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(contains(r.out, "values      [0.5, -1, 10]")) << r.out;
  EXPECT_TRUE(contains(r.out, "shape       [3]"));

  r = run_aitdb({"tensors", "--db", db, "v.npy", "--format", "csv"});
  EXPECT_TRUE(contains(r.out, "1,v.npy,,,v,")) << r.out;
  EXPECT_EQ(run_aitdb({"tensors", "--db", db, "nope"}).exit_code, 1);

  // AITDB_DB names the database when --db is absent.
  r = run_aitdb({"runs", "--format", "csv"}, {{"AITDB_DB", db}});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, ",v.npy,npy,1,1,0,12,")) << r.out;

  r = run_aitdb({"info", "--db", db});
  EXPECT_TRUE(contains(r.out, "runs                1"));
  EXPECT_TRUE(contains(r.out, "tensors             1 (1 with stored bytes)"));
}

}  // namespace
}  // namespace aitdb
