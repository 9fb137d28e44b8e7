#pragma once
// Comparison storage (schema/src/comparison_store.cpp): a comparison's pairs and results are
// written in one transaction, and the rows opcheck and errcheck store.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb {

// One tensor pair of a comparison, with what a worker needs to load both sides.
struct PairTask {
  std::int64_t pair_id = 0;
  std::int64_t seq = 0;
  struct Side {
    std::int64_t tensor_id = 0;
    std::optional<BlobKey> blob_key;
    std::optional<DType> dtype;
    std::int64_t numel = 0;
    std::string describe;  // "tensor 12 (run:path)" for messages
  } golden, my;
  std::optional<std::int64_t> my_token;  // logical token of my side's op
};

// Metric values of one pair; nullopt cells are stored as NULL (written empty in reports).
struct PairResultRow {
  std::int64_t pair_id = 0;
  std::optional<double> cosine_similarity, max_relative_error, mean_relative_error, max_absolute_error,
      mean_absolute_error, kl_divergence, relative_euclidean_distance;
  std::optional<double> euc_dist, msprobe_cosine, one_thousandth_err_ratio, five_thousandths_err_ratio;
  std::optional<std::string> accuracy_reached;
  std::string cmp_fail_reason;
};

// One row of `opcheck_results`: an op's output checked against its CPU golden, or the op's one
// row when nothing could be checked (status not_supported, or failed with the reason).
struct OpcheckResultRow {
  std::int64_t run_id = 0;
  std::int64_t op_node_id = 0;
  std::string op_id;
  std::string op_name;
  std::string op_param;
  std::optional<std::string> tensor_path;
  std::optional<std::int64_t> out_tensor_id;
  std::string status;  // pass | failed | not_supported
  std::optional<std::string> precision_standard;
  std::optional<double> rel_precision_rate, max_rel_error, abs_precision_rate, max_abs_error, cosine_similarity,
      kl_divergence;
  std::string fail_reason;
  std::string precision_mode = "keep";
};

// One row of `errcheck_results`.
struct ErrcheckResultRow {
  std::optional<std::int64_t> tensor_id;
  std::optional<std::int64_t> op_node_id;
  std::optional<std::string> op_name;
  std::int64_t nan_count = 0;
  std::int64_t inf_count = 0;
  std::int64_t saturated_count = 0;
  bool first_overflow = false;
};

// One comparison, written in one transaction: the comparison row and its pairs on construction,
// results as they come, closed by commit(). Destroying it without commit() (an error, a kill)
// leaves no trace of the comparison. The write lock is held throughout: readers go on (WAL), a
// second writer waits. The workers that compute metrics read blobs through their own
// read-only Stores, which see only committed rows, so everything they need is committed data.
class ComparisonTransaction {
 public:
  // Creates the comparison and runs each matcher's INSERT ... SELECT into `pairs` (parameters:
  // ?1 comparison id, ?2 golden run id, ?3 my run id, then `extra`); then numbers the pairs in
  // my-side execution order.
  ComparisonTransaction(Store& store, std::int64_t golden_run, std::int64_t my_run, const std::string& options_json,
                        const std::vector<std::pair<std::string, std::string>>& matchers,
                        const std::vector<SqlValue>& extra);
  ~ComparisonTransaction();
  ComparisonTransaction(const ComparisonTransaction&) = delete;
  ComparisonTransaction& operator=(const ComparisonTransaction&) = delete;

  [[nodiscard]] std::int64_t id() const { return id_; }
  // The next `limit` pairs after position `after_seq` (-1: from the start), in seq order; a
  // comparison is read in batches so memory does not grow with its size.
  std::vector<PairTask> pair_tasks(std::int64_t after_seq, std::size_t limit);
  void add_results(const std::vector<PairResultRow>& rows);
  // Closes the comparison (finish time, pair and failure counts) and commits.
  void commit();

 private:
  struct Statements;
  Store& store_;
  std::int64_t id_ = 0;
  bool done_ = false;
  std::unique_ptr<Statements> st_;
};

}  // namespace aitdb
