// Several processes on one warehouse: readers go on while a writer writes (WAL), writers wait
// for each other instead of failing, and a comparison is all-or-nothing.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

#include "aitdb/schema/comparison_store.h"
#include "aitdb/schema/ingest_transaction.h"
#include "aitdb/schema/store.h"
#include "test_support.h"

namespace aitdb {
namespace {

using test::TempDir;

// Starts `aitdb ARGS` with stderr to `err_file`, stdout discarded; returns its pid.
pid_t spawn_aitdb(std::vector<std::string> args, const std::string& err_file) {
  args.insert(args.begin(), AITDB_BIN);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen(err_file.c_str(), "w", stderr)) ::_exit(127);
    ::unsetenv("AITDB_DB");
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int exit_code_of(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void write_dump(const std::filesystem::path& dir, int files, float base) {
  for (int f = 0; f < files; ++f) {
    std::vector<float> v(256);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = base + static_cast<float>(f * 1000 + static_cast<int>(i));
    test::write_file(dir / ("t" + std::to_string(f) + ".npy"),
                     test::npy("<f4", {static_cast<std::int64_t>(v.size())}, test::bytes_of(v)));
  }
}

// Stores `values` as one float32 tensor of the transaction's run.
void add_float_tensor(IngestTransaction& tx, const std::vector<float>& values) {
  const auto blob = encode_blob(test::bytes_of(values), 4, kDefaultZstdLevel);
  tx.put_blob(blob);
  TensorRow t;
  t.source_kind = "npy";
  t.dtype = DType::Float32;
  t.numel = static_cast<std::int64_t>(values.size());
  t.shape = std::vector<std::int64_t>{*t.numel};
  t.nbytes = static_cast<std::int64_t>(4 * values.size());
  t.blob_key = blob.key;
  tx.add_tensor(t);
}

// Finding: two ingests into a database that did not exist yet failed 11 times in 40 with "table
// runs already exists" (the schema version was read before the migrating transaction).
TEST(Concurrency, TwoIngestsIntoAFreshDatabaseBothSucceed) {
  TempDir d;
  write_dump(d / "a", 12, 0.0F);
  write_dump(d / "b", 12, 0.5F);
  for (int round = 0; round < 20; ++round) {
    const std::string db = (d / ("r" + std::to_string(round) + ".db")).string();
    const std::string err_a = (d / "err_a").string();
    const std::string err_b = (d / "err_b").string();
    const pid_t a = spawn_aitdb({"ingest", "--db", db, "--run", "a", (d / "a").string()}, err_a);
    const pid_t b = spawn_aitdb({"ingest", "--db", db, "--run", "b", (d / "b").string()}, err_b);
    ASSERT_EQ(exit_code_of(a), 0) << "round " << round << ": " << test::read_file(err_a);
    ASSERT_EQ(exit_code_of(b), 0) << "round " << round << ": " << test::read_file(err_b);
    Store s(db, Store::Mode::ReadOnly);
    EXPECT_EQ(test::scalar(s, "SELECT group_concat(name, ',') FROM (SELECT name FROM runs ORDER BY name)"), "a,b");
    EXPECT_EQ(test::scalar(s, "SELECT count(*) FROM tensors"), "24") << "round " << round;
    EXPECT_EQ(test::scalar(s, "SELECT count(*) FROM blobs"), "24") << "round " << round;
    EXPECT_EQ(s.schema_version(), kSchemaVersion);
  }
}

// Finding: while an ingest ran longer than the lock timeout, every reader failed with "database
// is locked". Now the file is in WAL mode: readers read the last committed state meanwhile.
TEST(Concurrency, ReadersGoOnWhileAWriteTransactionIsOpen) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  write_dump(d / "done", 2, 1.0F);
  ASSERT_EQ(test::run_aitdb({"ingest", "--db", db, "--run", "done", (d / "done").string()}).exit_code, 0);
  Store writer(db);
  EXPECT_EQ(test::scalar(writer, "PRAGMA journal_mode"), "wal");
  IngestTransaction tx(writer, RunSpec{"open", "files", "/x", "{}"}, false);
  // More than the ingest's 8 MiB page cache: without WAL the writer now holds the exclusive lock
  // that shuts readers out until it commits.
  std::vector<float> big(3U << 20U);
  std::mt19937 rng(5);
  for (auto& x : big) x = static_cast<float>(rng());
  add_float_tensor(tx, big);

  const auto started = std::chrono::steady_clock::now();
  auto r = test::run_aitdb({"runs", "--db", db});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("done"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("open"), std::string::npos) << r.out;  // not committed yet
  r = test::run_aitdb({"query", "--db", db, "--format", "csv", "SELECT count(*) AS n FROM tensors"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "n\n2\n");
  r = test::run_aitdb({"export-tensor", "--db", db, "1", "-o", (d / "t.npy").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(d / "t.npy"));
  // None of them waited for the writer.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  tx.commit();
  EXPECT_EQ(test::scalar(writer, "SELECT count(*) FROM tensors"), "3");
}

// A second writer waits for the first to commit (however long) instead of failing.
TEST(Concurrency, ASecondWriterWaitsForTheFirst) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  Store first(db);
  std::atomic<bool> second_done{false};
  std::string second_error;
  {
    auto tx = std::make_unique<IngestTransaction>(first, RunSpec{"first", "files", "/x", "{}"}, false);
    std::jthread second([&] {
      try {
        Store s(db);
        IngestTransaction tx2(s, RunSpec{"second", "files", "/y", "{}"}, false);
        tx2.commit();
      } catch (const std::exception& e) {
        second_error = e.what();
      }
      second_done = true;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    EXPECT_FALSE(second_done) << second_error;  // waiting on the write lock, not failed
    tx->commit();
    tx.reset();
  }
  EXPECT_TRUE(second_done);
  EXPECT_EQ(second_error, "");
  EXPECT_EQ(test::scalar(first, "SELECT group_concat(name, ',') FROM (SELECT name FROM runs ORDER BY id)"),
            "first,second");
}

// Two float32 runs of one tensor each, paired by a one-line matcher.
std::pair<std::int64_t, std::int64_t> two_runs(Store& s) {
  std::int64_t ids[2] = {0, 0};
  int k = 0;
  for (const char* name : {"g", "m"}) {
    IngestTransaction tx(s, RunSpec{name, "files", "/x", "{}"}, false);
    add_float_tensor(tx, {1, 2, 3, static_cast<float>(k)});
    ids[k++] = tx.run_id();
    tx.commit();
  }
  return {ids[0], ids[1]};
}

const std::vector<std::pair<std::string, std::string>> kPairAll{
    {"all",
     "INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, rule, seq) "
     "SELECT ?1, g.id, m.id, 'all', 0 FROM tensors g JOIN tensors m ON g.run_id = ?2 AND m.run_id = ?3"}};

// Finding: a compare killed between its two transactions left pairs without results. Now pairs and
// results are one transaction: until commit nobody sees the comparison, and without commit (an
// error, a kill) it is gone.
TEST(Concurrency, AComparisonIsWrittenInOneTransaction) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  Store s(db);
  const auto [g, m] = two_runs(s);
  {
    ComparisonTransaction tx(s, g, m, "{}", kPairAll, {});
    const auto tasks = tx.pair_tasks(-1, 10);
    ASSERT_EQ(tasks.size(), 1U);
    Store reader(db, Store::Mode::ReadOnly);
    EXPECT_EQ(test::scalar(reader, "SELECT count(*) FROM comparisons"), "0");  // not visible before commit
  }                                                                            // abandoned
  EXPECT_EQ(test::scalar(s, "SELECT count(*) FROM comparisons"), "0");
  EXPECT_EQ(test::scalar(s, "SELECT count(*) FROM pairs"), "0");

  ComparisonTransaction tx(s, g, m, "{}", kPairAll, {});
  const auto tasks = tx.pair_tasks(-1, 10);
  ASSERT_EQ(tasks.size(), 1U);
  PairResultRow row;
  row.pair_id = tasks[0].pair_id;
  row.cosine_similarity = 0.5;
  row.cmp_fail_reason = "x";
  tx.add_results({row});
  tx.commit();
  EXPECT_EQ(test::scalar(s,
                         "SELECT pair_count || '/' || failed_count || '/' || (finished_at IS NOT NULL) "
                         "FROM comparisons"),
            "1/1/1");
  EXPECT_EQ(test::scalar(s, "SELECT cosine_similarity FROM results"), "0.5");
}

// A half-written comparison (pairs, no results, never finished) as older versions could leave
// behind is dropped on the next read-write open; finished comparisons stay.
TEST(Concurrency, HalfWrittenComparisonIsDroppedOnTheNextReadWriteOpen) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  {
    Store s(db);
    const auto [g, m] = two_runs(s);
    ComparisonTransaction tx(s, g, m, "{}", kPairAll, {});
    tx.commit();
  }
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h,
                         "PRAGMA foreign_keys = ON;"
                         "INSERT INTO comparisons (id, golden_run_id, my_run_id, matchers, options) "
                         "  SELECT 7, golden_run_id, my_run_id, matchers, options FROM comparisons WHERE id = 1;"
                         "INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, rule, seq) "
                         "  SELECT 7, golden_tensor_id, my_tensor_id, rule, seq FROM pairs WHERE comparison_id = 1;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK)
      << sqlite3_errmsg(h);
  sqlite3_close(h);
  {
    Store ro(db, Store::Mode::ReadOnly);  // a reader changes nothing
    EXPECT_EQ(test::scalar(ro, "SELECT count(*) FROM comparisons"), "2");
  }
  Store s(db);
  EXPECT_EQ(test::scalar(s, "SELECT group_concat(id) FROM comparisons"), "1");
  EXPECT_EQ(test::scalar(s, "SELECT count(*) FROM pairs WHERE comparison_id = 7"), "0");
  EXPECT_EQ(test::scalar(s, "SELECT count(*) FROM pairs WHERE comparison_id = 1"), "1");
}

}  // namespace
}  // namespace aitdb
