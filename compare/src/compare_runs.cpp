#include "aitdb/compare/compare_runs.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "aitdb/compare/opcheck_runner.h"
#include "aitdb/schema/blob_stream.h"
#include "aitdb/schema/errors.h"
#include "matchers/matchers.h"

namespace aitdb::compare {
namespace sql {
extern const char* const rank_pairs;
}
namespace {

constexpr std::size_t kListed = 10;        // pairs listed per summary section
constexpr std::size_t kBatchPairs = 4096;  // pairs in memory at once

std::vector<const Matcher*> choose_matchers(Store& store, const std::string& match, const RunInfo& g,
                                            const RunInfo& m) {
  const std::vector<const Matcher*> all{&weight_md5_matcher(), &data_id_matcher(),    &file_pair_matcher(),
                                        &atb_torch_matcher(),  &same_graph_matcher(), &ge_fx_matcher(),
                                        &ge_ge_matcher()};
  if (match != "auto") {
    for (const auto* x : all) {
      if (x->name == match) return {x};
    }
    throw UsageError("unknown --match '" + match +
                     "' (expected auto, path, files, data_id, atb_torch, weight_md5, ge_fx or ge_ge)");
  }
  for (const auto* x : all) {
    if (x->applies(store, g, m)) return {x};  // first applicable, most specific first
  }
  // Forcing a matcher cannot help here: say which pairings exist instead.
  std::string known;
  for (const auto* x : all) known += std::string("\n  ") + x->name + ": " + x->pairs_what;
  throw Error(
      ErrorKind::Usage, g.name + " vs " + m.name,
      "no matcher pairs a " + g.flavour + " golden with a " + m.flavour + " run; the pairings that exist:" + known);
}

// The atb_torch matcher's levels as one comma list; both levels when none is given.
std::string level_list(const std::vector<std::string>& levels) {
  if (levels.empty()) return "layer,module";
  std::string out;
  for (const auto& l : levels) {
    if (l != "layer" && l != "module") throw UsageError("unknown --level '" + l + "' (expected layer or module)");
    out += (out.empty() ? "" : ",") + l;
  }
  return out;
}

PairResultRow to_row(std::int64_t pair_id, const PairResult& r) {
  PairResultRow row;
  row.pair_id = pair_id;
  row.cmp_fail_reason = r.fail_reason;
  if (r.msit) {
    row.cosine_similarity = r.msit->cosine_similarity;
    row.max_relative_error = r.msit->max_relative_error;
    row.mean_relative_error = r.msit->mean_relative_error;
    row.max_absolute_error = r.msit->max_absolute_error;
    row.mean_absolute_error = r.msit->mean_absolute_error;
    row.kl_divergence = r.msit->kl_divergence;
    row.relative_euclidean_distance = r.msit->relative_euclidean_distance;
  }
  if (r.msprobe) {
    row.euc_dist = r.msprobe->euc_dist;
    row.msprobe_cosine = r.msprobe->cosine;
    row.one_thousandth_err_ratio = r.msprobe->one_thousandth_err_ratio;
    row.five_thousandths_err_ratio = r.msprobe->five_thousandths_err_ratio;
    row.accuracy_reached = r.msprobe->accuracy_reached;
  }
  return row;
}

void check_loadable(const PairTask::Side& side) {
  if (!side.blob_key || !side.dtype) {
    throw NotFoundError(side.describe, "holds no tensor bytes (stats-only or placeholder)");
  }
  if (dtype_info(*side.dtype).is_complex) throw FormatError(side.describe, "complex tensors are not compared");
}

// One stored tensor streamed block by block from its blob (decoded and hash-checked on the fly).
// The row's element count and dtype must describe the blob exactly, as on every tensor read.
class BlobSource : public ValueSource {
 public:
  BlobSource(const Store& store, const PairTask::Side& side)
      : stream_(store, *side.blob_key, side.describe),
        dtype_(*side.dtype),
        numel_(static_cast<std::size_t>(side.numel)) {
    const std::uint64_t need = static_cast<std::uint64_t>(side.numel) * dtype_size(dtype_);
    if (side.numel < 0 || need != stream_.size()) {
      throw IntegrityError(side.describe, std::to_string(side.numel) + " x " + std::string(dtype_name(dtype_)) +
                                              " needs " + std::to_string(need) + " bytes but its blob holds " +
                                              std::to_string(stream_.size()));
    }
  }
  [[nodiscard]] std::size_t size() const override { return numel_; }
  void load(std::size_t /*offset*/, std::size_t count, float* dst) override {
    const auto raw = stream_.next(count * dtype_size(dtype_));
    to_float(dtype_, raw.data(), count, dst);
  }
  void finish() { stream_.finish(); }

 private:
  BlobStream stream_;
  DType dtype_;
  std::size_t numel_;
};

}  // namespace

PairResult compare_stored(const Store& store, const PairTask::Side& golden, const PairTask::Side& my,
                          const MetricSelection& sel) {
  check_loadable(golden);
  check_loadable(my);
  BlobSource g(store, golden);
  BlobSource m(store, my);
  // compare_sources reads both sides to the end on every path (the pre-checks scan all values),
  // so both hashes can be verified; the result only counts once they have been.
  PairResult r = compare_sources(g, m, sel);
  g.finish();
  m.finish();
  return r;
}

// Folds one batch of results into the summary: counts, the first divergence and failures (the
// batches come in execution order), and the running list of the worst compared pairs.
void summarise_batch(const std::vector<PairTask>& tasks, const std::vector<PairResultRow>& rows,
                     const CompareOptions& opt, CompareSummary& sum, std::vector<PairSummary>& worst) {
  for (std::size_t i = 0; i < rows.size(); ++i) {
    PairSummary p{tasks[i].pair_id,          tasks[i].seq,
                  tasks[i].golden.describe,  tasks[i].my.describe,
                  rows[i].cosine_similarity, rows[i].cmp_fail_reason,
                  tasks[i].my_token,         std::nullopt};
    ++sum.pairs;
    if (!p.fail_reason.empty()) {
      ++sum.failed;
      if (sum.first_failed.size() < kListed) sum.first_failed.push_back(std::move(p));
      continue;
    }
    // The report CSV leaves out int8 facing another dtype (as msit does); such a pair never names
    // the divergence the CSV cannot show.
    const bool in_report = (tasks[i].golden.dtype == DType::Int8) == (tasks[i].my.dtype == DType::Int8);
    const bool diverged = in_report && p.cosine && *p.cosine < opt.cosine_threshold;
    if (diverged && !sum.first_divergence) sum.first_divergence = p;
    worst.push_back(std::move(p));
  }
  std::stable_sort(worst.begin(), worst.end(), [](const PairSummary& a, const PairSummary& b) {
    return a.cosine.value_or(2.0) < b.cosine.value_or(2.0);
  });
  if (worst.size() > kListed) worst.resize(kListed);
}

// Tensors left unpaired per side, and how each run's tokens were read.
void unpaired_and_notes(Store& store, const RunInfo& g, const RunInfo& m, const CompareOptions& opt,
                        CompareSummary& sum) {
  store.execute(
      "SELECT side, count(*) FROM unpaired_tensors WHERE comparison_id = ?1 "
      "AND (?2 IS NULL OR instr(',' || ?2 || ',', ',' || token || ',') > 0) GROUP BY side",
      {sum.comparison_id, opt.tokens ? SqlValue{*opt.tokens} : SqlValue{}}, [](const auto&) {},
      [&](const std::vector<SqlValue>& row) {
        const auto n = static_cast<std::uint64_t>(std::get<std::int64_t>(row[1]));
        (std::get<std::string>(row[0]) == "golden" ? sum.unpaired_golden : sum.unpaired_my) = n;
      });
  for (const RunInfo* r : {&g, &m}) {
    store.execute(
        "SELECT rank_key, model_graphs FROM run_ranks WHERE run_id = ?1 AND warmup_remap = 1 ORDER BY rank_index",
        {r->id}, [](const auto&) {},
        [&](const std::vector<SqlValue>& row) {
          sum.notes.push_back(r->name + " rank " + std::get<std::string>(row[0]) +
                              ": prefill + decode graphs, folder 0 skipped as warm-up, folder 1 read as "
                              "tokens 0 (prefill ops) and 1 (decode ops)");
        });
  }
  store.execute(
      "SELECT g.rank_key, m.rank_key FROM run_ranks g JOIN run_ranks m ON m.run_id = ?2 AND m.rank_index = "
      "g.rank_index "
      "WHERE g.run_id = ?1 AND g.rank_key <> m.rank_key AND g.rank_key <> '' AND m.rank_key <> '' AND ?3 IS NULL "
      "ORDER BY g.rank_index",
      {g.id, m.id, opt.rank_map ? SqlValue{*opt.rank_map} : SqlValue{}}, [](const auto&) {},
      [&](const std::vector<SqlValue>& row) {
        sum.notes.push_back("rank " + std::get<std::string>(row[0]) + " (golden) paired with rank " +
                            std::get<std::string>(row[1]) + " (my) by rank order");
      });
}

// Own vs inherited error of the diverged pairs, from the divergence view (opcheck results of my
// side's op), onto the pairs the summary lists.
void error_origins(Store& store, CompareSummary& sum) {
  std::map<std::int64_t, std::string> origin;
  store.execute(
      "SELECT pair_id, error_origin FROM divergence WHERE comparison_id = ?1 AND error_origin IS NOT NULL",
      {sum.comparison_id}, [](const auto&) {},
      [&](const std::vector<SqlValue>& row) {
        const auto& o = std::get<std::string>(row[1]);
        (o == "own" ? sum.own_errors : sum.inherited_errors) += 1;
        origin.emplace(std::get<std::int64_t>(row[0]), o);
      });
  const auto mark = [&](PairSummary& p) {
    if (const auto it = origin.find(p.pair_id); it != origin.end()) p.error_origin = it->second;
  };
  if (sum.first_divergence) mark(*sum.first_divergence);
  for (auto& p : sum.worst) mark(p);
}

CompareSummary compare_runs(Store& store, const std::string& golden_run, const std::string& my_run,
                            const CompareOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto g = store.find_run(golden_run);
  if (!g) throw NotFoundError(golden_run, "no such run");
  const auto m = store.find_run(my_run);
  if (!m) throw NotFoundError(my_run, "no such run");
  const auto matchers = choose_matchers(store, opt.match, *g, *m);
  if (opt.opcheck) {
    OpcheckOptions oc;
    oc.jobs = opt.jobs;
    run_opcheck(store, my_run, oc);
  }

  CompareSummary sum;
  std::vector<std::pair<std::string, std::string>> sqls;
  for (const auto* x : matchers) {
    if (x->prepare) x->prepare(store, *g, *m);
    sqls.emplace_back(x->name, std::string(sql::rank_pairs) + "\n" + x->sql);
    sum.matchers.push_back(x->name);
  }
  nlohmann::json options = {{"match", opt.match},
                            {"metrics", opt.metrics.msprobe ? (opt.metrics.msit ? "all" : "msprobe") : "msit"},
                            {"include_inputs", opt.include_inputs},
                            {"cosine_threshold", opt.cosine_threshold}};
  if (opt.tokens) options["tokens"] = *opt.tokens;
  if (opt.rank_map) options["rank_map"] = nlohmann::json::parse(*opt.rank_map);
  if (opt.rank) options["rank"] = *opt.rank;
  if (opt.match_only) options["match_only"] = true;
  const std::string levels = level_list(opt.levels);
  std::optional<std::string> op_mapping;
  if (opt.op_mapping_file) op_mapping = read_op_mapping_file(*opt.op_mapping_file);
  if (std::find(sum.matchers.begin(), sum.matchers.end(), "atb_torch") != sum.matchers.end()) {
    options["levels"] = levels;
    if (op_mapping) options["op_mapping"] = nlohmann::json::parse(*op_mapping);
  }
  // ?4 .. ?9 of every matcher's SQL.
  const std::vector<SqlValue> extra{std::int64_t{opt.include_inputs ? 1 : 0},
                                    opt.tokens ? SqlValue{*opt.tokens} : SqlValue{},
                                    opt.rank_map ? SqlValue{*opt.rank_map} : SqlValue{},
                                    SqlValue{levels},
                                    op_mapping ? SqlValue{*op_mapping} : SqlValue{},
                                    opt.rank ? SqlValue{*opt.rank} : SqlValue{}};
  const auto t_match = std::chrono::steady_clock::now();
  // Pairs and results are written in one transaction: an error or a kill leaves no comparison.
  std::optional<ComparisonTransaction> tx;
  try {
    tx.emplace(store, g->id, m->id, options.dump(), sqls, extra);
  } catch (const Error& e) {
    // The matchers' SQL is aitdb's own: when it fails, that is a bug (or a damaged schema), not
    // something the user typed.
    if (e.kind() != ErrorKind::Usage) throw;
    std::string names;
    for (const auto& n : sum.matchers) names += (names.empty() ? "" : ",") + n;
    throw InternalError("matcher " + names, e.reason());
  }
  sum.comparison_id = tx->id();
  sum.match_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_match).count();
  if (opt.match_only) {
    tx->commit();
    store.execute(
        "SELECT pair_count FROM comparisons WHERE id = ?1", {sum.comparison_id}, [](const auto&) {},
        [&](const std::vector<SqlValue>& r) { sum.pairs = static_cast<std::uint64_t>(std::get<std::int64_t>(r[0])); });
    unpaired_and_notes(store, *g, *m, opt, sum);
    sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return sum;
  }

  // Pairs go through in batches, in execution order: memory holds one batch, whatever the size
  // of the comparison. Each worker reads through its own connection.
  const unsigned jobs = std::max(1U, opt.jobs != 0 ? opt.jobs : std::thread::hardware_concurrency());
  std::vector<std::unique_ptr<Store>> readers;
  for (unsigned w = 0; w < jobs; ++w) readers.push_back(std::make_unique<Store>(store.path(), Store::Mode::ReadOnly));
  std::atomic<std::uint64_t> total_bytes{0};
  std::vector<PairSummary> worst;
  std::int64_t after = -1;
  for (;;) {
    const std::vector<PairTask> tasks = tx->pair_tasks(after, kBatchPairs);
    if (tasks.empty()) break;
    after = tasks.back().seq;
    std::vector<PairResultRow> rows(tasks.size());
    std::atomic<std::size_t> next{0};
    std::mutex err_mu;
    std::exception_ptr fatal;
    {
      std::vector<std::jthread> workers;
      for (unsigned w = 0; w < jobs && w < tasks.size(); ++w) {
        workers.emplace_back([&, w] {
          try {
            for (std::size_t i = next++; i < tasks.size(); i = next++) {
              PairResult r;
              try {
                r = compare_stored(*readers[w], tasks[i].golden, tasks[i].my, opt.metrics);
                total_bytes += static_cast<std::uint64_t>(tasks[i].golden.numel) * dtype_size(*tasks[i].golden.dtype) +
                               static_cast<std::uint64_t>(tasks[i].my.numel) * dtype_size(*tasks[i].my.dtype);
              } catch (const Error& e) {
                r.fail_reason = e.what();  // e.g. a blob that fails its hash check: this pair fails, the rest go on
              }
              rows[i] = to_row(tasks[i].pair_id, r);
            }
          } catch (...) {
            std::lock_guard lk(err_mu);
            fatal = std::current_exception();
            next = tasks.size();
          }
        });
      }
    }
    if (fatal) std::rethrow_exception(fatal);
    tx->add_results(rows);
    summarise_batch(tasks, rows, opt, sum, worst);
  }
  tx->commit();
  sum.bytes = total_bytes;
  unpaired_and_notes(store, *g, *m, opt, sum);
  sum.worst = std::move(worst);
  error_origins(store, sum);
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace aitdb::compare
