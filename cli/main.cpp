#include <iostream>
#include <map>

#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"
#include "commands.h"

namespace aitdb::cli {

void add_db_option(CLI::App& cmd, Context& ctx) {
  cmd.add_option("--db", ctx.db_path, "SQLite database file (default ./aitdb.db)")->envname("AITDB_DB");
}

}  // namespace aitdb::cli

int main(int argc, char** argv) {
  using namespace aitdb::cli;
  Context ctx;
  ctx.db_path = aitdb::kDefaultDbPath;
  CLI::App app{"aitdb: an SQL warehouse for LLM precision-debugging dumps"};
  app.require_subcommand(1);
  app.set_version_flag("--version", aitdb::kToolVersion);
  register_ingest(app, ctx);
  register_runs(app, ctx);
  register_tensors(app, ctx);
  register_show(app, ctx);
  register_export_tensor(app, ctx);
  register_query(app, ctx);
  register_info(app, ctx);
  register_compare(app, ctx);
  register_export(app, ctx);
  register_opcheck(app, ctx);
  register_errcheck(app, ctx);
  // msit users type -gp/-mp/-mf/-cl; CLI11 only knows one-letter short options, so spell them out.
  const std::map<std::string, std::string> msit_spellings{
      {"-gp", "--golden-path"}, {"-mp", "--my-path"}, {"-mf", "--op-mapping-file"}, {"-cl", "--level"}};
  std::vector<std::string> args;
  for (int i = argc - 1; i > 0; --i) {
    const std::string a = argv[i];
    const auto it = msit_spellings.find(a);
    args.push_back(it != msit_spellings.end() ? it->second : a);
  }
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  } catch (const aitdb::Error& e) {
    std::cerr << "aitdb: " << e.what() << "\n";
    return e.kind() == aitdb::ErrorKind::Usage ? kExitUsage : kExitError;
  } catch (const std::exception& e) {
    std::cerr << "aitdb: " << e.what() << "\n";
    return kExitError;
  }
  return ctx.exit_code;
}
