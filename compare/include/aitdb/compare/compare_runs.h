#pragma once
// `aitdb compare`: pair two runs with the matchers, compute metrics for every pair on worker
// threads (each holding one pair at a time), store pairs and results, summarise.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aitdb/compare/metrics.h"
#include "aitdb/schema/comparison_store.h"

namespace aitdb::compare {

// Cosine below which a pair counts as diverged (msit's default).
inline constexpr double kDefaultCosineThreshold = 0.99;

struct CompareOptions {
  std::string match = "auto";           // auto | path | files | data_id | atb_torch | weight_md5 | ge_fx | ge_ge
  MetricSelection metrics;              // msit (default), msprobe, or both
  std::optional<std::string> tokens;    // "0,1,5": only these my-side tokens (path matcher)
  bool include_inputs = false;          // path matcher: compare in-tensors too
  unsigned jobs = 0;                    // 0 = one per core
  double cosine_threshold = kDefaultCosineThreshold;  // first divergence: first pair below this
  std::optional<std::string> rank_map;  // JSON {golden rank: my rank} (folder name or device id)
  std::optional<std::int64_t> rank;     // graph mode (ge_fx, ge_ge): only this rank id (msit -r)
  bool match_only = false;              // store the pairs, compute no metric (to inspect pairing)
  bool opcheck = false;                 // run opcheck on my run first (own vs inherited error)
  // atb_torch matcher: levels to pair ("layer", "module"; empty = both) and msit's user op mapping
  // (op_mapping_file.json, or a folder holding it).
  std::vector<std::string> levels;
  std::optional<std::string> op_mapping_file;
};

struct PairSummary {
  std::int64_t pair_id = 0;
  std::int64_t seq = 0;
  std::string golden;
  std::string my;
  std::optional<double> cosine;
  std::string fail_reason;
  std::optional<std::int64_t> token;  // my side's logical token
  // Diverged pairs whose my-side op has opcheck results: "own" when the op fails opcheck on its
  // own inputs, "inherited" when it passes (its inputs had already diverged); view divergence.
  std::optional<std::string> error_origin;
};

struct CompareSummary {
  std::int64_t comparison_id = 0;
  std::vector<std::string> matchers;
  std::uint64_t pairs = 0;
  std::uint64_t failed = 0;
  std::uint64_t bytes = 0;  // tensor bytes of both sides that were compared
  double seconds = 0;
  double match_seconds = 0;                     // of `seconds`: running the matchers (pairs written, no metric yet)
  std::optional<PairSummary> first_divergence;  // never a failed pair
  std::vector<PairSummary> first_failed;        // up to 10 failed pairs, in execution order
  std::vector<PairSummary> worst;               // up to 10 compared pairs, lowest cosine first
  std::uint64_t unpaired_golden = 0;            // tensors left without a partner (view unpaired_tensors)
  std::uint64_t unpaired_my = 0;
  std::vector<std::string> notes;  // how the runs were read (warm-up remaps, rank pairing)
  std::uint64_t own_errors = 0;    // diverged pairs marked own / inherited (view divergence)
  std::uint64_t inherited_errors = 0;
};

CompareSummary compare_runs(Store& store, const std::string& golden_run, const std::string& my_run,
                            const CompareOptions& options);

// The metrics of two stored tensors, each streamed from its blob in blocks (never loaded whole
// for the msit set). Refuses placeholders and complex tensors, and a row whose element count x
// dtype does not match its blob (IntegrityError); the blobs' hashes are verified before returning.
PairResult compare_stored(const Store& store, const PairTask::Side& golden, const PairTask::Side& my,
                          const MetricSelection& sel = {});

}  // namespace aitdb::compare
