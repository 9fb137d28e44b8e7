// The command line's safe defaults and surface: read-only query, missing databases, which
// database a command wrote, --replace with comparisons, `aitdb comparisons`, help and exit codes
// of every subcommand, tensors by report path, one meaning of "token", stable run names.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "test_support.h"

namespace aitdb {
namespace {

namespace fs = std::filesystem;
using test::run_aitdb;
using test::TempDir;

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}
std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}
std::string abs_of(const fs::path& p) {
  return fs::absolute(p).lexically_normal().string();
}

// One CSV cell of `aitdb query`: the first column of the first row.
std::string query_scalar(const std::string& db, const std::string& sql) {
  const auto r = run_aitdb({"query", "--db", db, "--format", "csv", sql});
  EXPECT_EQ(r.exit_code, 0) << sql << ": " << r.err;
  const auto first = r.out.find('\n');
  if (first == std::string::npos || first + 1 >= r.out.size()) return "<none>";
  return r.out.substr(first + 1, r.out.find('\n', first + 1) - first - 1);
}

// Two single-file runs `g.npy` and `m.npy` whose second value differs, and comparison 1 of them.
std::string db_with_comparison(const TempDir& d) {
  const std::string db = (d / "w.db").string();
  test::write_file(d / "g.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, 2, 3, 4})));
  test::write_file(d / "m.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, -2, 3, 4})));
  EXPECT_EQ(run_aitdb({"ingest", "--db", db, (d / "g.npy").string()}).exit_code, 0);
  EXPECT_EQ(run_aitdb({"ingest", "--db", db, (d / "m.npy").string()}).exit_code, 0);
  const auto r = run_aitdb({"compare", "--db", db, "g.npy", "m.npy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "comparison 1:")) << r.out;
  return db;
}

TEST(CliSafety, QueryIsReadOnlyUnlessWrite) {
  TempDir d;
  const std::string db = db_with_comparison(d);
  auto r = run_aitdb({"query", "--db", db, "DELETE FROM runs"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "aitdb: `DELETE FROM runs` would change the database; aitdb query is read-only unless --write\n");
  EXPECT_EQ(r.out, "");
  // A write after a read is found before anything runs; DDL counts as a write.
  r = run_aitdb({"query", "--db", db, "SELECT count(*) FROM runs; DROP VIEW report"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "`DROP VIEW report` would change the database")) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(query_scalar(db, "SELECT count(*) FROM runs"), "2");
  EXPECT_EQ(query_scalar(db, "SELECT count(*) FROM report"), "1");
  // Reads say nothing on stderr.
  r = run_aitdb({"query", "--db", db, "SELECT name FROM runs ORDER BY id"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  // --write allows it and says which database changed.
  r = run_aitdb({"query", "--db", db, "--write", "DELETE FROM comparisons"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "aitdb: wrote " + abs_of(db) + "\n");
  EXPECT_EQ(query_scalar(db, "SELECT count(*) FROM comparisons"), "0");
}

TEST(CliSafety, ReadingAMissingDatabaseIsAnErrorNamingIt) {
  TempDir d;
  const fs::path missing = d / "nope.db";
  const std::string expected = "aitdb: " + abs_of(missing) +
                               ": no such database (`aitdb ingest` creates one; --db FILE or AITDB_DB names another)\n";
  const std::vector<std::vector<std::string>> commands{
      {"runs"},
      {"tensors", "r"},
      {"show", "1"},
      {"export-tensor", "1", "-o", (d / "t.npy").string()},
      {"query", "SELECT 1"},
      {"query", "--write", "CREATE TABLE t (x)"},
      {"info"},
      {"compare", "g", "m"},
      {"comparisons"},
      {"export", "1", "-o", d.path().string()},
      {"opcheck", "r", "-o", d.path().string()},
      {"errcheck", "r"},
  };
  for (auto args : commands) {
    args.insert(args.end(), {"--db", missing.string()});
    const auto r = run_aitdb(args);
    EXPECT_EQ(r.exit_code, 1) << args[0];
    EXPECT_EQ(r.err, expected) << args[0];
    EXPECT_FALSE(fs::exists(missing)) << args[0] << " created the database";
  }
  // The default ./aitdb.db is named by its absolute path too (the classic "wrong folder").
  const auto r = run_aitdb({"runs"}, {{"AITDB_DB", "sub/../relative.db"}});
  EXPECT_EQ(r.err, "aitdb: " + abs_of("relative.db") +
                       ": no such database (`aitdb ingest` creates one; --db FILE or AITDB_DB names another)\n");
  // A mistyped ingest path does not leave an empty database behind either.
  const auto ing = run_aitdb({"ingest", "--db", missing.string(), (d / "no_such_dump").string()});
  EXPECT_EQ(ing.exit_code, 1);
  EXPECT_EQ(ing.err, "aitdb: " + (d / "no_such_dump").string() + ": no such file or directory\n");
  EXPECT_FALSE(fs::exists(missing));
}

TEST(CliSafety, EveryWritingCommandSaysOnceWhichDatabase) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  const std::string wrote = "aitdb: wrote " + abs_of(db) + "\n";
  test::write_file(d / "g.npy", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(d / "m.npy", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  auto r = run_aitdb({"ingest", "--db", db, (d / "g.npy").string(), (d / "m.npy").string()});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, wrote);  // two runs, one line
  r = run_aitdb({"ingest", "--db", db, (d / "g.npy").string()});
  EXPECT_TRUE(contains(r.out, "nothing changed"));
  EXPECT_EQ(r.err, "");  // nothing written, nothing said
  r = run_aitdb({"compare", "--db", db, "g.npy", "m.npy"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, wrote);
  r = run_aitdb({"errcheck", "--db", db, "m.npy"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, wrote);
  // -l warning keeps stderr for warnings and errors.
  r = run_aitdb({"compare", "--db", db, "g.npy", "m.npy", "-l", "warning"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  // Reading commands never say it.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"runs"}, {"info"}, {"comparisons"}, {"tensors", "g.npy"}, {"show", "1"}}) {
    auto a = args;
    a.insert(a.end(), {"--db", db});
    r = run_aitdb(a);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err, "") << args[0];
  }
}

// When a later dump of several fails, the runs stored before it stay, and both stdout and the
// "wrote" line say so.
TEST(CliSafety, RunsStoredBeforeAFailingRootAreReported) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  test::write_file(d / "out/msit_dump_a/tensors/0_1/0/0_Op/after/outtensor0.bin", test::atb_f32({1, 2}));
  test::write_file(d / "out/msit_dump_b/tensors/0_1/0/0_Op/after/outtensor0.bin", "not a tensor");
  const auto r = run_aitdb({"ingest", "--db", db, "--strict", (d / "out").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.out, "run 'msit_dump_a' (atb_tree)")) << r.out;
  EXPECT_FALSE(contains(r.out, "msit_dump_b")) << r.out;
  const std::string wrote = "aitdb: wrote " + abs_of(db) + "\n";
  ASSERT_EQ(r.err.rfind(wrote, 0), 0U) << r.err;
  EXPECT_TRUE(contains(r.err.substr(wrote.size()), "msit_dump_b/tensors/0_1/0/0_Op/after/outtensor0.bin: ")) << r.err;
  EXPECT_TRUE(contains(r.err, "(--strict: nothing was stored)\n")) << r.err;
  EXPECT_EQ(query_scalar(db, "SELECT group_concat(name) FROM runs"), "msit_dump_a");
}

TEST(CliSafety, ReplaceIsRefusedWhileComparisonsReferenceTheRun) {
  TempDir d;
  const std::string db = db_with_comparison(d);
  auto r = run_aitdb({"ingest", "--db", db, "--replace", (d / "m.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "aitdb: replacing run 'm.npy' would delete the 1 comparison(s) that reference it (id 1): add "
            "--drop-comparisons to delete them, or ingest under another name with --run NAME\n");
  // Nothing changed: the comparison still exports.
  EXPECT_EQ(query_scalar(db, "SELECT count(*) FROM comparisons"), "1");
  EXPECT_EQ(run_aitdb({"export", "--db", db, "1", "-o", (d / "reports").string()}).exit_code, 0);
  // A changed source is re-ingested in place only the same way.
  test::write_file(d / "m.npy", test::npy("<f4", {4}, test::bytes_of(std::vector<float>{1, -2, 3, 5})));
  r = run_aitdb({"ingest", "--db", db, (d / "m.npy").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "aitdb: run 'm.npy': source changed since it was ingested")) << r.err;
  EXPECT_TRUE(contains(r.err, "; re-ingesting it would delete the 1 comparison(s) that reference it (id 1)")) << r.err;
  EXPECT_EQ(lines(r.err), 1U) << r.err;
  EXPECT_EQ(query_scalar(db, "SELECT max FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'm.npy'"), "4.0");
  // --drop-comparisons deletes them and says so.
  r = run_aitdb({"ingest", "--db", db, "--replace", "--drop-comparisons", (d / "m.npy").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(
      contains(r.err, "run 'm.npy' replaced: deleted 1 comparison(s) that referenced it (--drop-comparisons): 1\n"))
      << r.err;
  EXPECT_TRUE(contains(r.err, "aitdb: wrote " + abs_of(db) + "\n")) << r.err;
  EXPECT_EQ(query_scalar(db, "SELECT count(*) FROM comparisons"), "0");
  EXPECT_EQ(query_scalar(db, "SELECT max FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'm.npy'"), "5.0");
  // A run no comparison references is replaced as before.
  r = run_aitdb({"ingest", "--db", db, "--replace", (d / "g.npy").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliSafety, ComparisonsListsEachWithItsFirstDivergence) {
  TempDir d;
  const std::string db = db_with_comparison(d);
  // A second comparison without divergence.
  ASSERT_EQ(run_aitdb({"compare", "--db", db, "g.npy", "g.npy"}).exit_code, 0);
  auto r = run_aitdb({"comparisons", "--db", db, "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string created = query_scalar(db, "SELECT started_at FROM comparisons WHERE id = 1");
  const std::string created2 = query_scalar(db, "SELECT started_at FROM comparisons WHERE id = 2");
  EXPECT_EQ(r.out,
            "id,golden_run,my_run,matcher,pairs,failed,first_divergence,created\n"
            "1,g.npy,m.npy,files,1,0,#0 " +
                fs::canonical(d / "m.npy").string() + " (cosine 0.733333)," + created +
                "\n"
                "2,g.npy,g.npy,files,1,0,," +
                created2 + "\n");
  // Only those of one run; an unknown run is an error.
  r = run_aitdb({"comparisons", "--db", db, "m.npy", "--format", "csv"});
  EXPECT_EQ(lines(r.out), 2U) << r.out;
  r = run_aitdb({"comparisons", "--db", db, "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "aitdb: nope: no such run\n");
}

TEST(CliSafety, HelpAndExitCodesOfEverySubcommand) {
  auto r = run_aitdb({"--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("aitdb: an SQL warehouse", 0), 0U) << r.out;
  EXPECT_TRUE(contains(r.out, "Usage: aitdb [OPTIONS] SUBCOMMAND")) << r.out;
  const std::vector<std::pair<std::string, std::string>> usage{
      {"ingest", "Usage: aitdb ingest [OPTIONS] PATH..."},
      {"runs", "Usage: aitdb runs [OPTIONS]"},
      {"tensors", "Usage: aitdb tensors [OPTIONS] RUN"},
      {"show", "Usage: aitdb show [OPTIONS] TENSOR"},
      {"export-tensor", "Usage: aitdb export-tensor [OPTIONS] TENSOR"},
      {"query", "Usage: aitdb query [OPTIONS] SQL"},
      {"info", "Usage: aitdb info [OPTIONS]"},
      {"compare", "Usage: aitdb compare [OPTIONS] [GOLDEN_RUN] [MY_RUN]"},
      {"comparisons", "Usage: aitdb comparisons [OPTIONS] [RUN]"},
      {"export", "Usage: aitdb export [OPTIONS] COMPARISON"},
      {"opcheck", "Usage: aitdb opcheck [OPTIONS] RUN"},
      {"errcheck", "Usage: aitdb errcheck [OPTIONS] RUN"},
  };
  for (const auto& [cmd, line] : usage) {
    r = run_aitdb({cmd, "--help"});
    EXPECT_EQ(r.exit_code, 0) << cmd;
    EXPECT_TRUE(contains(r.out, line + "\n")) << r.out;
    EXPECT_TRUE(contains(r.out, "--db TEXT")) << cmd;
    EXPECT_TRUE(contains(r.out, "-l,--log-level TEXT")) << cmd;
    EXPECT_TRUE(contains(r.out, cmd)) << "the top-level help lists " << cmd;
    // An unknown option is a bad command line: exit 2, one line on stderr.
    r = run_aitdb({cmd, "--frobnicate"});
    EXPECT_EQ(r.exit_code, 2) << cmd;
    EXPECT_EQ(lines(r.err), 1U) << cmd << ": " << r.err;
    EXPECT_EQ(r.err.rfind("aitdb: ", 0), 0U) << r.err;
  }
  // The names msit users type are listed where they apply.
  r = run_aitdb({"compare", "--help"});
  for (const char* s :
       {"-gp,--golden-path TEXT", "-mp,--my-path TEXT", "-o,--output TEXT", "-mf,--op-mapping-file TEXT",
        "-cl,--compare-level,--level TEXT", "-l,--log-level TEXT", "--tokens,--token TEXT"}) {
    EXPECT_TRUE(contains(r.out, s)) << s << "\n" << r.out;
  }
  EXPECT_FALSE(contains(r.out, "(0x)")) << r.out;
  r = run_aitdb({"ingest", "--help"});
  EXPECT_FALSE(contains(r.out, "-cl")) << "compare's spellings stay with compare";
  // -cl is not ingest's zstd --level.
  EXPECT_EQ(run_aitdb({"ingest", "-cl", "5", "x"}).exit_code, 2);
}

TEST(CliSafety, ExitCodeForEachKindOfError) {
  TempDir d;
  const std::string db = db_with_comparison(d);
  // 2: bad command line.
  EXPECT_EQ(run_aitdb({"compare", "--db", db, "g.npy"}).exit_code, 2);
  EXPECT_EQ(run_aitdb({"runs", "--db", db, "--format", "xml"}).exit_code, 2);
  // 1: input or data error.
  auto r = run_aitdb({"show", "--db", db, "g.npy:nowhere.npy"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "aitdb: g.npy:nowhere.npy: no tensor at this path in run 'g.npy'\n");
  // 5: an output file that cannot be written is an I/O error naming the file, not a database error.
  r = run_aitdb({"export-tensor", "--db", db, "1", "-o", (d / "no_dir/t.npy").string()});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(r.err, "aitdb: " + (d / "no_dir/t.npy").string() + ": cannot create: No such file or directory\n");
  test::write_file(d / "a_file", "x");
  r = run_aitdb({"errcheck", "--db", db, "m.npy", "--csv", (d / "a_file/out.csv").string()});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_TRUE(contains(r.err, "aitdb: " + (d / "a_file/out.csv").string() + ": cannot create")) << r.err;
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(d / "ro");
    fs::permissions(d / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    r = run_aitdb({"export", "--db", db, "1", "-o", (d / "ro").string()});
    EXPECT_EQ(r.exit_code, 5) << r.err;
    fs::permissions(d / "ro", fs::perms::owner_all);
  }
  // 4: a database that cannot be opened.
  test::write_file(d / "junk.db", std::string(4096, 'x'));
  r = run_aitdb({"runs", "--db", (d / "junk.db").string()});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_TRUE(contains(r.err, "aitdb: " + (d / "junk.db").string() + ": cannot open database: file is not a database"))
      << r.err;
  // 6: aitdb's own matcher SQL failing is a bug, not a bad command line.
  sqlite3* h = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(h, "DROP TABLE run_ranks", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(h);
  r = run_aitdb({"compare", "--db", db, "g.npy", "m.npy"});
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_TRUE(contains(r.err, "aitdb: matcher files: SQL error: no such table: run_ranks\n")) << r.err;
}

TEST(CliSafety, MsitLogLevelIsNotARunName) {
  TempDir d;
  const std::string db = db_with_comparison(d);
  auto r = run_aitdb({"compare", "--db", db, "g.npy", "m.npy", "-l", "debug"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "debug: comparison 2: matching ")) << r.err;
  r = run_aitdb({"compare", "--db", db, "-l", "DEBUG", "g.npy", "m.npy"});  // msit's spelling
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "debug: comparison 3: matching ")) << r.err;
  r = run_aitdb({"compare", "--db", db, "g.npy", "m.npy", "-l", "verbose"});
  EXPECT_EQ(r.exit_code, 2);
  // -gp/-mp/-o with -l, as msit users type them.
  r = run_aitdb({"compare", "--db", db, "-gp", (d / "g.npy").string(), "-mp", (d / "g.npy").string(), "-o",
                 (d / "out").string(), "-l", "info"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "wrote " + (d / "out").string() + "/msit_cmp_report_")) << r.out;
}

TEST(CliSafety, ShowAndExportTensorTakeTheReportPath) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  // A tree run (loose files: root joined with the relative path) and a single-file run.
  test::write_file(d / "golden/sub/a.npy", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(d / "my/sub/a.npy", test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 3})));
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, "--run", "g", (d / "golden").string()}).exit_code, 0);
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, "--run", "m", (d / "my").string()}).exit_code, 0);
  ASSERT_EQ(run_aitdb({"compare", "--db", db, "g", "m", "-o", (d / "out").string()}).exit_code, 0);
  const std::string golden_path = query_scalar(db, "SELECT golden_data_path FROM report");
  EXPECT_EQ(golden_path, fs::canonical(d / "golden").string() + "/sub/a.npy");
  const std::string golden_id = query_scalar(db, "SELECT golden_tensor_id FROM report");
  auto r = run_aitdb({"show", "--db", db, golden_path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "tensor      " + golden_id + "\nrun         g\n")) << r.out;
  EXPECT_TRUE(contains(r.out, "values      [1, 2]")) << r.out;
  // Typed relative to the working directory, too.
  r = run_aitdb({"show", "--db", db, fs::relative(d / "my/sub/a.npy").string()});
  EXPECT_TRUE(contains(r.out, "values      [1, 3]")) << r.out << r.err;
  // export-tensor takes it the same way and writes the same bytes as by id.
  ASSERT_EQ(run_aitdb({"export-tensor", "--db", db, golden_path, "-o", (d / "by_path.npy").string()}).exit_code, 0);
  ASSERT_EQ(run_aitdb({"export-tensor", "--db", db, golden_id, "-o", (d / "by_id.npy").string()}).exit_code, 0);
  EXPECT_EQ(test::read_file(d / "by_path.npy"), test::read_file(d / "by_id.npy"));
  // A single-file run prints as the file itself.
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, (d / "golden/sub/a.npy").string(), "--run", "one"}).exit_code, 0);
  r = run_aitdb({"show", "--db", db, fs::canonical(d / "golden/sub/a.npy").string()});
  // That file is now in two runs: the message lists both ids instead of guessing.
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_TRUE(contains(r.err, "names 2 tensors (ids " + golden_id + ", ")) << r.err;
  r = run_aitdb({"show", "--db", db, (d / "nowhere.npy").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.err, "no tensor with this id, RUN:PATH or report path")) << r.err;
}

TEST(CliSafety, ControlCharactersInFileNamesKeepOneErrorOnOneLine) {
  TempDir d;
  const std::string db = db_with_comparison(d);
  const std::string out = (d / "new\ndir" / "t\x01.npy").string();
  auto r = run_aitdb({"export-tensor", "--db", db, "1", "-o", out});
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_EQ(lines(r.err), 1U) << r.err;
  EXPECT_TRUE(contains(r.err, "new\\ndir/t\\x01.npy: cannot create")) << r.err;
  r = run_aitdb({"ingest", "--db", db, (d / "no\nsuch").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "aitdb: " + (d / "no\\nsuch").string() + ": no such file or directory\n");
  r = run_aitdb({"show", "--db", db, "g.npy:a\rb"});
  EXPECT_EQ(lines(r.err), 1U) << r.err;
  EXPECT_TRUE(contains(r.err, "a\\rb")) << r.err;
  // A command-line error quoting the bad value, too.
  r = run_aitdb({"runs", "--db", db, "--format", "x\ny"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1U) << r.err;
}

// One meaning of "token": --token is the logical token (after the warm-up remap), the folder on
// disk is --token-folder.
TEST(CliSafety, TokenIsTheLogicalTokenAcrossCommands) {
  TempDir d;
  const std::string db = (d / "w.db").string();
  // Folder 0 is a warm-up; folder 1 holds token 0 (prefill graph) and token 1 (decode graph).
  const auto root = d / "g";
  test::write_file(root / "model/100/P.json", R"({"modelName":"P","nodes":[{"opName":"Prefill_layer_2"}]})");
  test::write_file(root / "model/100/D.json", R"({"modelName":"D","nodes":[{"opName":"Decoder_layer_3"}]})");
  test::write_file(root / "tensors/0_100/0/2_Prefill_layer/after/outtensor0.bin", test::atb_f32({9, 9}));
  test::write_file(root / "tensors/0_100/1/2_Prefill_layer/after/outtensor0.bin", test::atb_f32({1, 2}));
  test::write_file(root / "tensors/0_100/1/3_Decoder_layer/after/outtensor0.bin", test::atb_f32({3, 4}));
  ASSERT_EQ(run_aitdb({"ingest", "--db", db, "--run", "g", root.string()}).exit_code, 0);
  const auto ops = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> args{"tensors", "--db", db, "g", "--format", "csv"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto r = run_aitdb(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::string out;
    std::size_t at = r.out.find('\n');
    while (at != std::string::npos && at + 1 < r.out.size()) {
      const auto end = r.out.find('\n', at + 1);
      const std::string row = r.out.substr(at + 1, end - at - 1);
      // id,file,token,token_folder,op_path,...
      std::size_t c = 0;
      std::vector<std::string> cells;
      for (std::size_t k = 0; k < 5; ++k) {
        const auto next = row.find(',', c);
        cells.push_back(row.substr(c, next - c));
        c = next + 1;
      }
      out += (out.empty() ? "" : " ") + cells[2] + "/" + cells[3] + ":" + cells[4];
      at = end;
    }
    return out;
  };
  EXPECT_EQ(ops({}), "/0:2 0/1:2 1/1:3");
  EXPECT_EQ(ops({"--token", "0"}), "0/1:2");
  EXPECT_EQ(ops({"--tokens", "0,1"}), "0/1:2 1/1:3");
  EXPECT_EQ(ops({"--token-folder", "1"}), "0/1:2 1/1:3");
  EXPECT_EQ(ops({"--token-folder", "0"}), "/0:2");
  // show prints the same two.
  const auto r = run_aitdb({"show", "--db", db, "g:tensors/0_100/1/3_Decoder_layer/after/outtensor0.bin"});
  EXPECT_TRUE(contains(r.out, "token       1  (folder 1)\n")) << r.out;
}

// Run names come from paths only: the same dumps get the same names in any database, on any
// standard library.
TEST(CliSafety, RunNamesAreStableAndReadable) {
  TempDir d;
  for (const char* side : {"a", "b"}) {
    test::write_file(d / side / "msit_dump_20250101_000000/tensors/0_1/0/0_Op/after/outtensor0.bin",
                     test::atb_f32({1, 2}));
  }
  const std::string gp = (d / "a/msit_dump_20250101_000000").string();
  const std::string mp = (d / "b/msit_dump_20250101_000000").string();
  for (const char* name : {"one.db", "two.db"}) {
    const std::string db = (d / name).string();
    const auto r = run_aitdb({"compare", "--db", db, "-gp", gp, "-mp", mp, "-o", (d / "out").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(query_scalar(db, "SELECT group_concat(name, ' ') FROM (SELECT name FROM runs ORDER BY id)"),
              "msit_dump_20250101_000000 b/msit_dump_20250101_000000")
        << name;
  }
}

}  // namespace
}  // namespace aitdb
