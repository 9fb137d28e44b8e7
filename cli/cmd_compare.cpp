// `aitdb compare` and `aitdb export`.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/query/report_export.h"
#include "aitdb/schema/errors.h"
#include "commands.h"

namespace aitdb::cli {
namespace {
namespace fs = std::filesystem;

struct CompareArgs {
  std::string golden_run;
  std::string my_run;
  std::string golden_path;
  std::string my_path;
  std::string out_dir;
  std::string match = "auto";
  std::string metrics = "msit";
  std::string tokens;
  std::string rank_map;
  std::int64_t rank = -1;  // -1: every rank both runs have
  std::vector<std::string> levels;
  std::string op_mapping_file;
  unsigned jobs = 0;
  double threshold = compare::kDefaultCosineThreshold;
  bool inputs = false;
  bool legacy_name = false;
  bool opcheck = false;
  bool drop_comparisons = false;
};

std::string cos_text(const std::optional<double>& c) {
  if (!c) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6f", *c);
  return buf;
}

// The one dump at PATH as a run: reused when unchanged, re-ingested when its source changed.
// Returns the run name.
std::string ensure_ingested(Store& store, const std::string& path, bool drop_comparisons, Context& ctx) {
  ingest::IngestOptions o;
  o.drop_comparisons = drop_comparisons;
  o.on_error = [&ctx](const std::string& p, const std::string& reason) { ctx.warn(one_line_message(p, reason)); };
  auto r = ingest::ingest_path(store, path, o);
  // The name is taken by another dump: keep both, naming this one by more of its path.
  for (fs::path dir = fs::path(r.source_root).parent_path(); r.unchanged && !r.same_source && dir.has_filename();
       dir = dir.parent_path()) {
    o.run_name = dir.filename().string() + "/" + r.run_name;
    r = ingest::ingest_path(store, path, o);
  }
  if (r.unchanged && !r.same_source) {
    throw Error(ErrorKind::Usage, path, "run '" + r.run_name + "' already exists from another source");
  }
  if (!r.unchanged) {
    ctx.wrote = true;
    report_replaced(r, ctx);
    std::printf("ingested %s as run '%s': %llu tensors%s\n", path.c_str(), r.run_name.c_str(),
                static_cast<unsigned long long>(r.tensors), r.errors ? " (some files skipped)" : "");
    if (r.errors > 0) ctx.exit_code = kExitPartial;
  }
  return r.run_name;
}

// "0:1,1:0" (golden rank folder or device id : my rank folder or device id) -> JSON object.
std::string rank_map_json(const std::string& spec) {
  std::string out = "{";
  std::size_t start = 0;
  while (start <= spec.size()) {
    const auto comma = spec.find(',', start);
    const std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto colon = item.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == item.size() ||
        item.find_first_of("\"\\") != std::string::npos) {
      throw UsageError("--rank-map takes GOLDEN:MY pairs separated by commas, e.g. 0:1,1:0 (got '" + item + "')");
    }
    out +=
        std::string(out.size() > 1 ? "," : "") + "\"" + item.substr(0, colon) + "\":\"" + item.substr(colon + 1) + "\"";
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out + "}";
}

void print_pair(const char* label, const compare::PairSummary& f) {
  std::printf("%s pair %lld at position %lld%s:\n  my     %s\n  golden %s\n  cosine %s%s%s\n", label,
              static_cast<long long>(f.pair_id), static_cast<long long>(f.seq),
              f.token ? (", token " + std::to_string(*f.token)).c_str() : "", f.my.c_str(), f.golden.c_str(),
              cos_text(f.cosine).c_str(), f.fail_reason.empty() ? "" : "  reason: ", f.fail_reason.c_str());
  if (f.error_origin) {
    std::printf("  error  %s\n", *f.error_origin == "own"
                                     ? "own: my op fails opcheck on its own inputs"
                                     : "inherited: my op passes opcheck; its inputs already diverged");
  }
}

void run_compare(const CompareArgs& a, Context& ctx) {
  const bool by_path = !a.golden_path.empty() || !a.my_path.empty();
  const bool by_name = !a.golden_run.empty() || !a.my_run.empty();
  if (by_path && (a.golden_path.empty() || a.my_path.empty())) throw UsageError("-gp and -mp go together");
  if (by_path && by_name) throw UsageError("give either GOLDEN_RUN MY_RUN or -gp PATH -mp PATH, not both");
  if (!by_path && (a.golden_run.empty() || a.my_run.empty())) {
    throw UsageError("compare needs GOLDEN_RUN and MY_RUN (ingested runs), or -gp PATH -mp PATH");
  }
  if (a.drop_comparisons && !by_path) throw UsageError("--drop-comparisons goes with -gp/-mp");
  // Comparing stored runs needs them stored; -gp/-mp may start a database.
  Store store = open_store(ctx, by_path ? DbAccess::Create : DbAccess::Write);
  const std::string golden = by_path ? ensure_ingested(store, a.golden_path, a.drop_comparisons, ctx) : a.golden_run;
  const std::string my = by_path ? ensure_ingested(store, a.my_path, a.drop_comparisons, ctx) : a.my_run;
  compare::CompareOptions o;
  o.match = a.match;
  o.metrics.msit = a.metrics != "msprobe";
  o.metrics.msprobe = a.metrics != "msit";
  if (!a.tokens.empty()) o.tokens = a.tokens;
  o.include_inputs = a.inputs;
  if (!a.rank_map.empty()) o.rank_map = rank_map_json(a.rank_map);
  if (a.rank >= 0) o.rank = a.rank;
  o.levels = a.levels;
  if (!a.op_mapping_file.empty()) o.op_mapping_file = a.op_mapping_file;
  o.jobs = a.jobs;
  o.cosine_threshold = a.threshold;
  o.opcheck = a.opcheck;
  const auto s = compare::compare_runs(store, golden, my, o);
  ctx.wrote = true;  // the comparison (and with --opcheck its opcheck results)
  ctx.debug("comparison " + std::to_string(s.comparison_id) + ": matching " + std::to_string(s.match_seconds) +
            " s, whole compare " + std::to_string(s.seconds) + " s, " +
            std::to_string(o.jobs != 0 ? o.jobs : std::thread::hardware_concurrency()) + " worker(s)");
  if (s.pairs == 0) {
    // msit stops with "The two cannot be matched."; an empty report would look like success.
    // Advice that fits the matcher that ran.
    const std::string& used = s.matchers.front();
    const std::string hint =
        used == "atb_torch" ? "no layers or mapped ops with dumped outputs on both sides; map the ATB op types "
                              "to torch module classes with -mf op_mapping_file.json, or check --tokens"
        : used == "path"    ? "check --tokens and --rank-map"
        : used == "ge_fx" || used == "ge_ge"
            ? "no GE op the graph text names met its partner; check the dynamo_original_graph_*.txt "
              "files, --tokens and --rank"
            : "the two runs name no common tensors";
    throw Error(ErrorKind::Usage, golden + " vs " + my, "no tensor pairs matched (matcher " + used + "): " + hint);
  }
  const double mb = static_cast<double>(s.bytes) / 1e6;
  std::printf(
      "comparison %lld: '%s' (golden) vs '%s' (my), matcher %s: %llu pairs, %llu failed; %.1f MB compared in "
      "%.2f s (%.1f MB/s)\n",
      static_cast<long long>(s.comparison_id), golden.c_str(), my.c_str(), s.matchers.front().c_str(),
      static_cast<unsigned long long>(s.pairs), static_cast<unsigned long long>(s.failed), mb, s.seconds,
      s.seconds > 0 ? mb / s.seconds : 0.0);
  for (const auto& n : s.notes) std::printf("note: %s\n", n.c_str());
  if (s.unpaired_golden + s.unpaired_my > 0) {
    std::printf("unpaired tensors: %llu golden, %llu my (SELECT * FROM unpaired_tensors WHERE comparison_id = %lld)\n",
                static_cast<unsigned long long>(s.unpaired_golden), static_cast<unsigned long long>(s.unpaired_my),
                static_cast<long long>(s.comparison_id));
  }
  if (s.first_divergence) {
    char label[64];
    std::snprintf(label, sizeof label, "first divergence (cosine < %g),", a.threshold);
    print_pair(label, *s.first_divergence);
  } else {
    std::printf("no divergence: every compared pair has cosine >= %g\n", a.threshold);
  }
  if (s.own_errors + s.inherited_errors > 0) {
    std::printf(
        "diverged pairs with opchecked ops: %llu own error, %llu inherited (SELECT * FROM divergence WHERE "
        "comparison_id = %lld)\n",
        static_cast<unsigned long long>(s.own_errors), static_cast<unsigned long long>(s.inherited_errors),
        static_cast<long long>(s.comparison_id));
  }
  if (!s.first_failed.empty()) {
    std::printf("failed pairs (%llu; not compared, never a divergence), first in execution order:\n",
                static_cast<unsigned long long>(s.failed));
    for (const auto& f : s.first_failed) {
      std::printf("  pair %-8lld %s  [%s]\n", static_cast<long long>(f.pair_id), f.my.c_str(), f.fail_reason.c_str());
    }
  }
  if (!s.worst.empty()) {
    std::printf("worst pairs:\n  %-10s %-8s %-9s %s\n", "cosine", "pair", "error", "my tensor");
    for (const auto& w : s.worst) {
      std::printf("  %-10s %-8lld %-9s %s\n", cos_text(w.cosine).c_str(), static_cast<long long>(w.pair_id),
                  w.error_origin.value_or("-").c_str(), w.my.c_str());
    }
  }
  if (by_path || !a.out_dir.empty()) {
    for (const auto& e :
         query::export_reports(store, s.comparison_id, a.out_dir.empty() ? "." : a.out_dir, a.legacy_name)) {
      std::printf("wrote %s (%zu rows, %zu dropped by msit's filters)\n", e.file.c_str(), e.rows, e.dropped);
    }
  }
  std::fflush(stdout);
}

}  // namespace

void register_compare(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand("compare", "Pair two runs, compute msit's metrics, find the first divergence");
  cmd->add_option("GOLDEN_RUN", a->golden_run, "Golden (reference) run, already ingested");
  cmd->add_option("MY_RUN", a->my_run, "My run, already ingested");
  cmd->add_option("--golden-path", a->golden_path, "Golden dump or file; ingested first (reused when unchanged)");
  cmd->add_option("--my-path", a->my_path, "My dump or file; ingested first (reused when unchanged)");
  cmd->add_flag(
      "--drop-comparisons", a->drop_comparisons,
      "With -gp/-mp: a changed dump is re-ingested even when comparisons reference its run (they are deleted)");
  cmd->add_option("-o,--output", a->out_dir, "Directory for msit_cmp_report_*.csv (default . with -gp/-mp)");
  cmd->add_option("--match", a->match, "auto, path, files, data_id, atb_torch, weight_md5, ge_fx or ge_ge")
      ->check(CLI::IsMember({"auto", "path", "files", "data_id", "atb_torch", "weight_md5", "ge_fx", "ge_ge"}));
  cmd->add_option("--compare-level,--level", a->levels, "atb_torch levels to pair, layer and/or module (default both)")
      ->check(CLI::IsMember({"layer", "module"}))
      ->delimiter(',');
  cmd->add_option("--op-mapping-file", a->op_mapping_file,
                  "op_mapping_file.json (or its folder): ATB op type -> torch module class, over the built-ins");
  cmd->add_option("--metrics", a->metrics, "msit (default), msprobe or all")->check(CLI::IsMember({"msit", "msprobe", "all"}));
  cmd->add_option("--tokens,--token", a->tokens, "Only these my-side logical tokens (op_nodes.token), e.g. 0,1");
  cmd->add_flag("--inputs", a->inputs, "Also compare input tensors (path matcher)");
  cmd->add_option("--rank-map", a->rank_map,
                  "Pair ranks explicitly: GOLDEN:MY,... by rank folder or device id (default: by rank order)");
  cmd->add_option("--rank,-r", a->rank,
                  "Graph mode (GE, FX): compare only this rank id (default: ranks on both sides)");
  cmd->add_option("--jobs,-j", a->jobs, "Worker threads (default: one per core)");
  char threshold_help[80];
  std::snprintf(threshold_help, sizeof threshold_help, "Cosine below which a pair diverges (default %g)",
                compare::kDefaultCosineThreshold);
  cmd->add_option("--threshold", a->threshold, threshold_help);
  cmd->add_flag("--legacy-name", a->legacy_name, "Name the report ait_cmp_report_*.csv");
  cmd->add_flag("--opcheck", a->opcheck, "Run opcheck on my run first: divergent ops marked own or inherited error");
  add_common_options(*cmd, ctx);
  cmd->callback([a, &ctx] { run_compare(*a, ctx); });
}

void register_export(CLI::App& app, Context& ctx) {
  auto id = std::make_shared<std::int64_t>(0);
  auto dir = std::make_shared<std::string>(".");
  auto legacy = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("export", "Write a comparison as msit_cmp_report_{UTC time}.csv");
  cmd->add_option("COMPARISON", *id, "Comparison id (see `aitdb comparisons`)")->required();
  cmd->add_option("-o,--output", *dir, "Output directory (default .)");
  cmd->add_flag("--legacy-name", *legacy, "Name it ait_cmp_report_{local time}.csv");
  add_common_options(*cmd, ctx);
  cmd->callback([id, dir, legacy, &ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    for (const auto& e : query::export_reports(store, *id, *dir, *legacy)) {
      std::printf("wrote %s (%zu rows, %zu dropped by msit's filters)\n", e.file.c_str(), e.rows, e.dropped);
    }
  });
}

}  // namespace aitdb::cli
