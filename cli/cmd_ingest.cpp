#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "aitdb/ingest/ingest.h"
#include "aitdb/schema/errors.h"
#include "commands.h"

namespace aitdb::cli {
namespace {

struct IngestArgs {
  std::vector<std::string> paths;
  std::string run;
  unsigned jobs = 0;
  bool stats_only = false;
  bool replace = false;
  bool drop_comparisons = false;
  bool strict = false;
  int level = kDefaultZstdLevel;
  std::uint64_t max_file_size = ingest::kDefaultMaxFileSize;
};

// One line on stderr, rewritten in place, at most every 100 ms.
class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  void update(const ingest::IngestProgress& p) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double mb = static_cast<double>(p.bytes) / 1e6;
    std::fprintf(stderr, "\r  %llu files  %llu tensors  %.1f MB  %.1f MB/s   ", static_cast<unsigned long long>(p.files),
                 static_cast<unsigned long long>(p.tensors), mb, p.seconds > 0 ? mb / p.seconds : 0.0);
    shown_ = true;
  }
  void clear() {
    if (shown_) std::fprintf(stderr, "\r%*s\r", 70, "");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace

void report_replaced(const ingest::IngestReport& r, const Context& ctx) {
  if (r.refreshed) ctx.info("run '" + r.run_name + "': " + *r.refreshed + "; re-ingesting");
  if (r.dropped_comparisons.empty()) return;
  std::string ids;
  for (const auto id : r.dropped_comparisons) ids += (ids.empty() ? "" : ", ") + std::to_string(id);
  ctx.info("run '" + r.run_name + "' replaced: deleted " + std::to_string(r.dropped_comparisons.size()) +
           " comparison(s) that referenced it (--drop-comparisons): " + ids);
}

namespace {

// Which root became which run, and what happened to it.
void print_run(const std::string& path, const ingest::IngestReport& r, Context& ctx) {
  if (r.unchanged) {
    if (!r.same_source) {
      throw Error(ErrorKind::Usage, path,
                  "run '" + r.run_name + "' already exists from another source; use --run NAME or --replace");
    }
    std::cout << "run '" << r.run_name << "' already ingested from " << r.source_root
              << "; nothing changed (use --replace to re-ingest)\n";
    return;
  }
  ctx.wrote = true;
  report_replaced(r, ctx);
  const double mb = static_cast<double>(r.raw_bytes) / 1e6;
  std::printf("run '%s' (%s) from %s: %llu files, %llu tensors, %.1f MB of tensor data in %.2f s (%.1f MB/s); "
              "%llu new blobs, %llu deduplicated, stored %.1f MB",
              r.run_name.c_str(), r.flavour.c_str(), r.source_root.c_str(), static_cast<unsigned long long>(r.files),
              static_cast<unsigned long long>(r.tensors), mb, r.seconds, r.seconds > 0 ? mb / r.seconds : 0.0,
              static_cast<unsigned long long>(r.new_blobs), static_cast<unsigned long long>(r.dedup_blobs),
              static_cast<double>(r.stored_bytes) / 1e6);
  if (r.errors > 0) std::printf("; %llu files skipped (see ingest_errors)", static_cast<unsigned long long>(r.errors));
  std::printf("\n");
  std::fflush(stdout);
  if (r.errors > 0) ctx.exit_code = kExitPartial;
}

void run_ingest(const IngestArgs& a, Context& ctx) {
  if (!a.run.empty() && a.paths.size() > 1) throw UsageError("--run names one run; give one PATH per ingest");
  if (a.level < 1 || a.level > 19) throw UsageError("--level must be between 1 and 19");
  // A mistyped path is not worth an empty database.
  for (const auto& path : a.paths) {
    std::error_code ec;
    if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) {
      throw NotFoundError(path, "no such file or directory");
    }
  }
  Store store = open_store(ctx, DbAccess::Create);
  ProgressLine progress(::isatty(STDERR_FILENO) == 1);
  for (const auto& path : a.paths) {
    ingest::IngestOptions o;
    if (!a.run.empty()) o.run_name = a.run;
    o.jobs = a.jobs;
    o.stats_only = a.stats_only;
    o.replace = a.replace;
    o.drop_comparisons = a.drop_comparisons;
    o.strict = a.strict;
    o.zstd_level = a.level;
    o.limits.max_file_size = a.max_file_size;
    o.on_error = [&](const std::string& p, const std::string& reason) {
      progress.clear();
      ctx.warn(one_line_message(p, reason));
    };
    o.on_progress = [&](const ingest::IngestProgress& p) { progress.update(p); };
    // Said as each run is stored: a later root that fails leaves the earlier ones, and says so.
    o.on_run = [&](const ingest::IngestReport& r) {
      progress.clear();
      print_run(path, r, ctx);
    };
    ingest::IngestAllReport all;
    try {
      all = ingest::ingest_all(store, path, o);
    } catch (...) {
      progress.clear();
      throw;
    }
    progress.clear();
    for (const auto& n : all.notes) ctx.info(one_line_message(path, "note: " + n));
  }
}

}  // namespace

void register_ingest(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<IngestArgs>();
  auto* cmd = app.add_subcommand("ingest", "Store every dump found at or below PATH as one run each");
  cmd->add_option("PATH", args->paths, "Dump roots, folders holding dumps, paths inside a dump, or tensor files")
      ->required();
  cmd->add_option("--run", args->run, "Run name (one dump), or the prefix NAME/ of each run's name (several)");
  cmd->add_option("--jobs,-j", args->jobs, "Worker threads (default: one per core)");
  cmd->add_flag("--stats-only", args->stats_only, "Keep statistics only, not tensor bytes");
  cmd->add_flag("--replace", args->replace,
                "Replace an existing run of the same name (refused while comparisons reference it)");
  cmd->add_flag("--drop-comparisons", args->drop_comparisons,
                "With --replace (or a re-ingest of a changed source): delete the comparisons that reference the run");
  cmd->add_flag("--strict", args->strict, "Fail the whole ingest on the first bad file");
  cmd->add_option("--level", args->level, "zstd level (1-19, default " + std::to_string(kDefaultZstdLevel) + ")");
  cmd->add_option("--max-file-size", args->max_file_size,
                  "Refuse files larger than this many bytes (default " +
                      std::to_string(ingest::kDefaultMaxFileSize >> 30U) + " GiB)");
  add_common_options(*cmd, ctx);
  cmd->callback([args, &ctx] { run_ingest(*args, ctx); });
}

}  // namespace aitdb::cli
