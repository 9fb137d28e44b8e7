#pragma once
// Each subcommand registers its options and a callback; errors propagate as aitdb::Error and are
// turned into messages and exit codes by main().
#include <CLI/CLI.hpp>
#include <string>

namespace aitdb::cli {

// Exit codes, documented in docs/cli.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;    // the command failed; nothing was stored (errcheck: something overflowed)
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitPartial = 3;  // ingest stored the run but skipped bad files

struct Context {
  std::string db_path;
  int exit_code = kExitOk;
};

void add_db_option(CLI::App& cmd, Context& ctx);

void register_ingest(CLI::App& app, Context& ctx);
void register_runs(CLI::App& app, Context& ctx);
void register_tensors(CLI::App& app, Context& ctx);
void register_show(CLI::App& app, Context& ctx);
void register_export_tensor(CLI::App& app, Context& ctx);
void register_query(CLI::App& app, Context& ctx);
void register_info(CLI::App& app, Context& ctx);
void register_compare(CLI::App& app, Context& ctx);
void register_export(CLI::App& app, Context& ctx);
void register_opcheck(CLI::App& app, Context& ctx);
void register_errcheck(CLI::App& app, Context& ctx);

}  // namespace aitdb::cli
