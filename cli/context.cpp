// What every subcommand shares: opening the database as the command needs it, the common
// options, log levels and the exit code of each kind of error.
#include <filesystem>
#include <iostream>

#include "commands.h"

namespace aitdb::cli {
namespace fs = std::filesystem;

int exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::Usage:
      return kExitUsage;
    case ErrorKind::BadInput:
    case ErrorKind::NotFound:
    case ErrorKind::Integrity:
      return kExitError;
    case ErrorKind::Store:
      return kExitDatabase;
    case ErrorKind::Io:
      return kExitIo;
    case ErrorKind::Internal:
      return kExitInternal;
  }
  return kExitInternal;
}

LogLevel Context::level() const {
  if (log_level == "debug") return LogLevel::Debug;
  if (log_level == "info") return LogLevel::Info;
  if (log_level == "warning" || log_level == "warn") return LogLevel::Warning;
  return LogLevel::Error;  // error, fatal, critical
}

void Context::debug(const std::string& msg) const {
  if (level() <= LogLevel::Debug) std::cerr << escape_for_message("debug: " + msg) << "\n";
}
void Context::info(const std::string& msg) const {
  if (level() <= LogLevel::Info) std::cerr << escape_for_message(msg) << "\n";
}
void Context::warn(const std::string& msg) const {
  if (level() <= LogLevel::Warning) std::cerr << escape_for_message(msg) << "\n";
}

Store open_store(const Context& ctx, DbAccess access) {
  if (access != DbAccess::Create) {
    std::error_code ec;
    if (!fs::exists(ctx.db_path, ec)) {
      throw NotFoundError(fs::absolute(ctx.db_path, ec).lexically_normal().string(),
                          "no such database (`aitdb ingest` creates one; --db FILE or AITDB_DB names another)");
    }
  }
  return Store(ctx.db_path, access == DbAccess::Read ? Store::Mode::ReadOnly : Store::Mode::ReadWrite);
}

void add_common_options(CLI::App& cmd, Context& ctx) {
  cmd.add_option("--db", ctx.db_path, "SQLite database file (default ./aitdb.db)")->envname("AITDB_DB");
  cmd.add_option("-l,--log-level", ctx.log_level,
                 "What stderr shows besides errors: debug, info (default), warning, error, fatal or critical")
      ->transform(CLI::IsMember({"debug", "info", "warning", "warn", "error", "fatal", "critical"}, CLI::ignore_case));
}

}  // namespace aitdb::cli
