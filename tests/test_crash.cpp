// An ingest killed with SIGKILL mid-way leaves a database that opens cleanly and holds no part
// of that run (and, for --replace, still holds the old run).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb {
namespace {

using test::TempDir;

void make_big_dump(const std::filesystem::path& dir, int files, std::size_t bytes_each) {
  std::mt19937 rng(3);
  std::vector<std::uint32_t> v(bytes_each / 4);
  for (int f = 0; f < files; ++f) {
    for (auto& x : v) x = rng();  // incompressible: every byte reaches the database
    test::write_file(dir / ("tensors/0_1/0/" + std::to_string(f) + "_Op/after/outtensor0.bin"),
                     test::atb_bin(3, {static_cast<std::int64_t>(v.size())}, test::bytes_of(v)));
  }
}

std::string scalar(Store& s, const std::string& sql) {
  std::string out;
  s.execute(sql, {}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) {
    out = std::holds_alternative<std::int64_t>(r[0]) ? std::to_string(std::get<std::int64_t>(r[0]))
                                                     : std::get<std::string>(r[0]);
  });
  return out;
}

// Starts `aitdb ingest ARGS`, waits until its transaction has written several MiB of pages to the
// write-ahead log, then SIGKILLs it. Returns false if it finished first.
bool kill_mid_ingest(const std::string& db, const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<std::string> a{AITDB_BIN, "ingest", "--db", db};
    a.insert(a.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout)) ::_exit(127);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  const auto wal = db + "-wal";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool running = true;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      running = false;
      break;
    }
    std::error_code ec;
    if (std::filesystem::file_size(wal, ec) > (8U << 20U) && !ec) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!running) return false;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

TEST(Crash, KilledIngestLeavesNoPartialRun) {
  TempDir d;
  make_big_dump(d / "big", 600, 128 << 10);
  test::write_file(d / "small/a.npy", test::npy("<f4", {1}, test::bytes_of(std::vector<float>{1})));
  const std::string db = (d / "w.db").string();
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, "--run", "keep", (d / "small").string()}).exit_code, 0);

  ASSERT_TRUE(kill_mid_ingest(db, {"--run", "big", (d / "big").string()})) << "ingest finished before the kill";
  {
    Store s(db);
    EXPECT_EQ(scalar(s, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(scalar(s, "SELECT group_concat(name) FROM runs"), "keep");
    EXPECT_EQ(scalar(s, "SELECT count(*) FROM tensors"), "1");
    EXPECT_EQ(scalar(s, "SELECT count(*) FROM blobs"), "1");
  }
  // A killed --replace keeps the run it was replacing.
  ASSERT_TRUE(kill_mid_ingest(db, {"--run", "keep", "--replace", (d / "big").string()}));
  {
    Store s(db);
    EXPECT_EQ(scalar(s, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(scalar(s, "SELECT count(*) FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'keep'"), "1");
  }
  // And the database takes the same ingest normally afterwards.
  const auto r = test::run_aitdb({"ingest", "--db", db, "--run", "big", (d / "big").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Store s(db);
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM tensors"), "601");
}

}  // namespace
}  // namespace aitdb
