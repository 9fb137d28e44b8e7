#pragma once
// Each subcommand registers its options and a callback; errors propagate as aitdb::Error and are
// turned into one-line messages and exit codes by main().
#include <CLI/CLI.hpp>
#include <string>

#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"

namespace aitdb::ingest {
struct IngestReport;
}  // namespace aitdb::ingest

namespace aitdb::cli {

// Exit codes, documented in docs/cli.md: one per kind of error.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;     // input or data error (bad or missing input, no such run/tensor/database,
                                         // integrity check failed); errcheck: something overflowed
inline constexpr int kExitUsage = 2;     // bad command line, SQL, or a request the data contradicts
inline constexpr int kExitPartial = 3;   // ingest stored the run but skipped bad files
inline constexpr int kExitDatabase = 4;  // the database could not be opened, migrated, read or written
inline constexpr int kExitIo = 5;        // an output file could not be created or written
inline constexpr int kExitInternal = 6;  // a bug in aitdb (e.g. a matcher's SQL failed)

int exit_code_for(ErrorKind kind);

// msit's log levels, most verbose first; -l/--log-level picks what stderr shows besides errors.
enum class LogLevel { Debug, Info, Warning, Error };

struct Context {
  std::string db_path;
  std::string log_level = "info";
  int exit_code = kExitOk;
  bool wrote = false;  // the command changed the database (main() says which, once, on stderr)

  [[nodiscard]] LogLevel level() const;
  // One line on stderr when the log level lets it through; names in it are escaped.
  void debug(const std::string& msg) const;
  void info(const std::string& msg) const;
  void warn(const std::string& msg) const;
};

// How a command uses the database.
enum class DbAccess {
  Read,    // read-only; the database must exist
  Write,   // reads and writes stored data; the database must exist
  Create,  // stores new data; creates the database when missing
};
// Opens ctx.db_path as `access` needs it; a missing database is a NotFoundError naming its
// absolute path (never silently created by a command that reads).
Store open_store(const Context& ctx, DbAccess access);

// --db FILE and -l/--log-level LEVEL, which every subcommand takes.
void add_common_options(CLI::App& cmd, Context& ctx);

// Spellings msit users type that CLI11 cannot declare (short options are one letter): main()
// rewrites them to the long option before parsing, and --help lists them beside it.
struct MsitSpelling {
  const char* spelling;   // "-gp"
  const char* long_name;  // "golden-path"
};
inline constexpr MsitSpelling kMsitSpellings[] = {
    {"-gp", "golden-path"}, {"-mp", "my-path"}, {"-mf", "op-mapping-file"}, {"-cl", "compare-level"}};

// On stderr: why a run was re-ingested, and which comparisons its replacement deleted.
void report_replaced(const ingest::IngestReport& r, const Context& ctx);

void register_ingest(CLI::App& app, Context& ctx);
void register_runs(CLI::App& app, Context& ctx);
void register_tensors(CLI::App& app, Context& ctx);
void register_show(CLI::App& app, Context& ctx);
void register_export_tensor(CLI::App& app, Context& ctx);
void register_query(CLI::App& app, Context& ctx);
void register_info(CLI::App& app, Context& ctx);
void register_compare(CLI::App& app, Context& ctx);
void register_comparisons(CLI::App& app, Context& ctx);
void register_export(CLI::App& app, Context& ctx);
void register_opcheck(CLI::App& app, Context& ctx);
void register_errcheck(CLI::App& app, Context& ctx);

}  // namespace aitdb::cli
