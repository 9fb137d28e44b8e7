#include <cstring>
#include <filesystem>
#include <iostream>

#include "commands.h"

namespace aitdb::cli {
namespace {

// CLI11's help, with the msit spelling of an option listed beside its long name
// ("-gp,--golden-path").
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option_name(const CLI::Option* opt, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(opt, is_positional);
    if (is_positional) return name;
    for (const auto& s : kMsitSpellings) {
      for (const auto& l : opt->get_lnames()) {
        if (l == s.long_name) return std::string(s.spelling) + "," + name;
      }
    }
    return name;
  }
};

// The arguments as CLI11 parses them (last first), msit spellings written as long options; none
// after "--", where everything is a positional value.
std::vector<std::string> parse_args(int argc, char** argv) {
  std::vector<std::string> args;
  bool options_end = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") options_end = true;
    if (!options_end) {
      for (const auto& s : kMsitSpellings) {
        if (a == s.spelling) a = std::string("--") + s.long_name;
      }
    }
    args.push_back(std::move(a));
  }
  return {args.rbegin(), args.rend()};
}

void report_written(const Context& ctx) {
  if (!ctx.wrote) return;
  std::error_code ec;
  ctx.info("aitdb: wrote " + std::filesystem::absolute(ctx.db_path, ec).lexically_normal().string());
}

}  // namespace
}  // namespace aitdb::cli

int main(int argc, char** argv) {
  using namespace aitdb::cli;
  Context ctx;
  ctx.db_path = aitdb::kDefaultDbPath;
  CLI::App app{"aitdb: an SQL warehouse for LLM precision-debugging dumps", "aitdb"};
  app.formatter(std::make_shared<HelpFormatter>());  // before the subcommands, which inherit it
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
  register_comparisons(app, ctx);
  register_export(app, ctx);
  register_opcheck(app, ctx);
  register_errcheck(app, ctx);
  std::vector<std::string> args = parse_args(argc, argv);
  try {
    app.parse(args);
  } catch (const CLI::Success& e) {  // --help, --version
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  } catch (const CLI::ParseError& e) {
    std::cerr << "aitdb: " << aitdb::escape_for_message(e.what()) << " (see --help)\n";
    return kExitUsage;
  } catch (const aitdb::Error& e) {
    report_written(ctx);
    std::cerr << "aitdb: " << e.what() << "\n";
    return exit_code_for(e.kind());
  } catch (const std::exception& e) {
    // Every library error is an aitdb::Error; anything else escaped a library: a bug.
    report_written(ctx);
    std::cerr << "aitdb: internal error: " << aitdb::escape_for_message(e.what()) << "\n";
    return kExitInternal;
  }
  report_written(ctx);
  return ctx.exit_code;
}
