// `aitdb opcheck` and `aitdb errcheck`.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "aitdb/compare/errcheck.h"
#include "aitdb/compare/opcheck_runner.h"
#include "aitdb/query/opcheck_export.h"
#include "aitdb/query/output.h"
#include "aitdb/schema/errors.h"
#include "commands.h"

namespace aitdb::cli {
namespace {

struct OpcheckArgs {
  std::string run;
  std::string ids;
  std::string opnames;
  std::vector<std::string> metrics;
  std::string precision_mode = "keep";
  std::string out_dir = ".";
  unsigned jobs = 0;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void run_opcheck_command(const OpcheckArgs& a, Context& ctx) {
  compare::OpcheckOptions o;
  o.ids = split_list(a.ids);
  o.opnames = split_list(a.opnames);
  for (const auto& m : a.metrics) {
    (m == "abs" ? o.metrics.abs : m == "cos_sim" ? o.metrics.cos_sim : o.metrics.kl) = true;
  }
  const auto mode = compare::precision_mode_from_name(a.precision_mode);
  if (!mode) throw UsageError("--precision-mode takes keep, force_fp16 or force_fp32 (got '" + a.precision_mode + "')");
  o.precision_mode = *mode;
  o.jobs = a.jobs;
  // Progress only on a terminal: a redirected stderr (CI logs) stays free of carriage returns.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  if (tty) {
    o.on_progress = [](std::size_t done, std::size_t total) {
      std::fprintf(stderr, "\ropcheck: %zu/%zu ops", done, total);
      if (done == total) std::fputc('\n', stderr);
    };
  }
  Store store = open_store(ctx, DbAccess::Write);
  const auto s = compare::run_opcheck(store, a.run, o);
  if (s.ops == 0) {
    throw Error(ErrorKind::Usage, a.run, "no op with dumped tensors matches the selection (--ids, --opname)");
  }
  ctx.wrote = true;  // opcheck_results
  const auto file = query::export_opcheck_csv(s.rows, {o.metrics.abs, o.metrics.cos_sim, o.metrics.kl}, a.out_dir);
  std::printf("opcheck of run '%s': %zu ops checked, %zu passed, %zu failed, %zu not supported (%.2f s: load %.2f s, "
              "kernels %.2f s)\n",
              a.run.c_str(), s.ops, s.passed, s.failed, s.not_supported, s.seconds, s.load_seconds, s.kernel_seconds);
  std::size_t listed = 0;
  for (const auto& r : s.rows) {
    if (r.status != "failed" || listed++ >= 10) continue;
    std::printf("  FAILED %s %s%s: %s\n", r.op_id.c_str(), r.op_name.c_str(),
                r.out_tensor_id ? (" out" + std::to_string(*r.out_tensor_id)).c_str() : "", r.fail_reason.c_str());
  }
  std::printf("wrote %s (%zu rows)\n", file.c_str(), s.rows.size());
  std::fflush(stdout);
}

constexpr const char* kErrcheckColumns =
    "SELECT source, rank_key, token, op_id, op_type, phase, io, io_index, dtype, nan_count, inf_count, "
    "saturated_count, first_overflow, tensor_path FROM errcheck_report WHERE run_id = ?1 "
    "ORDER BY source = 'scan' DESC, rank_key, coalesce(token, -1), exec_order, tensor_id";

void run_errcheck_command(const std::string& run, const std::string& csv_path, Context& ctx) {
  Store store = open_store(ctx, DbAccess::Write);
  const auto s = compare::run_errcheck(store, run);
  ctx.wrote = true;  // errcheck_results
  if (!csv_path.empty()) {
    if (std::filesystem::exists(csv_path)) throw Error(ErrorKind::Usage, csv_path, "exists; not overwritten");
    std::ofstream csv(csv_path);
    if (!csv) throw IoError(csv_path, "cannot create");
    query::run_query(store, kErrcheckColumns, {SqlValue{s.run_id}}, query::OutputFormat::Csv, csv);
    if (!csv.flush()) throw IoError(csv_path, "write failed");
  }
  for (const auto& w : s.warnings) ctx.warn(w);
  std::printf("errcheck of run '%s': %zu tensors checked, %zu with NaN, inf or saturated values", run.c_str(),
              s.tensors_checked, s.tensors_overflowed);
  if (s.msit_events > 0) std::printf("; %zu overflow events in msit_overflow_res files", s.msit_events);
  std::printf("\n");
  if (s.tensors_overflowed + s.msit_events > 0) {
    std::fflush(stdout);
    query::run_query(store, kErrcheckColumns, {SqlValue{s.run_id}}, query::OutputFormat::Table, std::cout);
    // CI gates on the exit code: anything overflowed fails the step.
    ctx.exit_code = kExitError;
  }
  std::cout.flush();
}

}  // namespace

void register_errcheck(CLI::App& app, Context& ctx) {
  auto run = std::make_shared<std::string>();
  auto csv = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("errcheck", "Find NaN, inf and saturated values and the first op that overflowed");
  cmd->add_option("RUN", *run, "Run (ingested)")->required();
  cmd->add_option("--csv", *csv, "Also write the findings to this CSV file (never overwritten)");
  add_common_options(*cmd, ctx);
  cmd->callback([run, csv, &ctx] { run_errcheck_command(*run, *csv, ctx); });
}

void register_opcheck(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<OpcheckArgs>();
  auto* cmd = app.add_subcommand("opcheck", "Recompute each ATB op on the CPU from its dumped inputs and check its outputs");
  cmd->add_option("RUN", a->run, "Run (an ingested ATB dump)")->required();
  cmd->add_option("--ids", a->ids, "Only these op ids and their descendants, e.g. 1_2,3");
  cmd->add_option("--opname", a->opnames, "Only op types containing one of these (case-insensitive), e.g. linear,rmsnorm");
  cmd->add_option("--metric", a->metrics, "Extra metrics: abs cos_sim kl")
      ->check(CLI::IsMember({"abs", "cos_sim", "kl"}))
      ->expected(1, 3);
  cmd->add_option("--precision-mode", a->precision_mode, "keep (default), force_fp16 or force_fp32")
      ->check(CLI::IsMember({"keep", "keep_origin_dtype", "force_fp16", "force_fp32"}));
  cmd->add_option("-o,--output", a->out_dir, "Directory for opcheck_result_*.csv (default .)");
  cmd->add_option("--jobs,-j", a->jobs, "Ops checked in parallel (default: one per core)");
  add_common_options(*cmd, ctx);
  cmd->callback([a, &ctx] { run_opcheck_command(*a, ctx); });
}

}  // namespace aitdb::cli
