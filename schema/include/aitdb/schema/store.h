#pragma once
// The one place that opens SQLite. Everything else talks to the warehouse through Store (reads)
// and IngestTransaction (the single write transaction of one ingest).
#include <cstdint>
#include <functional>
#include <span>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aitdb/schema/blob_codec.h"
#include "aitdb/schema/dtype.h"
#include "aitdb/schema/stats.h"

namespace SQLite {
class Database;
class Statement;
}  // namespace SQLite

namespace aitdb {

inline constexpr int kSchemaVersion = 6;
inline constexpr const char* kDefaultDbPath = "aitdb.db";
inline constexpr const char* kToolVersion = "0.1.0";

struct RunInfo {
  std::int64_t id = 0;
  std::string name;
  std::string flavour;
  std::string source_root;
  std::string created_at;
  std::string tool_version;
  std::string options;
  std::int64_t tensor_count = 0;
  std::int64_t file_count = 0;
  std::int64_t error_count = 0;
  std::int64_t raw_bytes = 0;
};

struct FileRow {
  std::string rel_path;
  std::int64_t size = 0;
  std::optional<std::int64_t> mtime_ns;
  std::string kind;    // tensor | stats | md5 | alias | aux | other
  std::string status;  // ok | error | skipped
  std::optional<std::string> content;
};

// One executed op of the op graph (a row of `op_nodes`), as the ingest walk meets it. Parents,
// logical tokens and execution order are filled in when the run is finalised.
struct OpNodeRow {
  std::string kind;      // op | module | weight | file
  std::string rank_key;  // '' when the path has no rank folder
  std::string folder;    // token folder, '' when none
  std::string id_path;
  std::optional<std::string> names;  // ATB: JSON array of directory op names
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::int64_t depth = 1;
  std::optional<std::int64_t> sibling_pos;
  std::optional<std::string> param;

  static OpNodeRow of(std::string kind, std::string rank_key, std::string folder, std::string id_path) {
    OpNodeRow n;
    n.kind = std::move(kind);
    n.rank_key = std::move(rank_key);
    n.folder = std::move(folder);
    n.name = id_path;
    n.id_path = std::move(id_path);
    return n;
  }
};

// A node as the finalising pass sees it (one token folder of one rank at a time).
struct OpNodeRef {
  std::int64_t id = 0;
  std::string id_path;
  std::optional<std::string> names;
  std::optional<std::string> type;
};

// One node of an ATB process's static topology (model/layer JSON).
struct GraphOpRow {
  std::optional<std::int64_t> pid;
  std::string graph;  // rel path of the JSON
  std::int64_t graph_index = 0;
  std::string id_path;
  std::string op_name;
  std::optional<std::string> op_type;
  std::optional<std::string> param;
  std::string in_tensors;   // JSON array
  std::string out_tensors;  // JSON array
};

struct RankRow {
  std::string rank_key;
  std::int64_t rank_index = 0;
  std::optional<std::string> device_kind;
  std::optional<std::int64_t> device_id;
  std::optional<std::int64_t> pid;
};

// Identity + description of one stored tensor (a row of `tensors`).
struct TensorRow {
  std::int64_t id = 0;
  std::int64_t run_id = 0;
  std::optional<std::int64_t> file_id;
  std::string source_kind;
  std::optional<std::string> rank_key;
  std::optional<std::int64_t> device_id;
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> token;
  std::optional<std::string> op_path;
  std::optional<std::string> op_names;
  std::optional<std::string> op_type;
  std::optional<std::string> phase;
  std::optional<std::string> io;
  std::optional<std::int64_t> io_index;
  std::optional<std::int64_t> io_subindex;
  std::optional<std::string> io_name;
  std::optional<DType> dtype;
  std::optional<std::int64_t> format;
  std::optional<std::vector<std::int64_t>> shape;
  std::optional<std::int64_t> numel;
  std::optional<std::int64_t> nbytes;
  std::optional<BlobKey> blob_key;
  std::optional<std::string> md5;
  TensorStats stats;
  bool has_stats = false;
  std::optional<std::string> stats_source;
  std::optional<std::string> alias_of;
  std::optional<std::string> flags;
  std::optional<std::string> rel_path;  // filled on reads (joined from files)
  std::optional<std::int64_t> op_node_id;
};

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

// Where a side file's line points in the op graph: a node of one rank's token folder. The rank is
// named by its folder when the line gives it (a tensor path), else by its process id.
struct OpNodeKey {
  std::optional<std::string> rank_key;
  std::optional<std::int64_t> pid;
  std::string folder;
  std::string id_path;
};

// One input or output listed on an op io CSV row (docs/formats.md, "Operation and kernel io CSV").
struct OpIoTensorRecord {
  std::string io;  // in | out
  std::int64_t io_index = 0;
  std::string dtype;
  std::string format;
  std::vector<std::int64_t> shape;
  std::optional<std::string> file_path;  // as written
  // What file_path names inside the run: the op directory, the phase and the file's own io/index.
  std::optional<OpNodeKey> node;
  std::string phase;
  std::string file_io;
  std::int64_t file_index = 0;
};

// One data row of an op io CSV, with the op it describes.
struct OpIoRecord {
  std::int64_t line = 0;
  std::string kind;  // operation | kernel
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> execute_count;
  std::optional<std::int64_t> case_num;
  std::string op_name;
  std::optional<std::string> op_type;
  std::optional<std::string> id_path;
  std::string op_param;
  std::int64_t in_num = 0;
  std::int64_t out_num = 0;
  std::optional<std::string> data_gen_type, data_gen_range, test_type, test_level, from_model, soc_version,
      expected_error;
  std::optional<OpNodeKey> node;
  std::vector<OpIoTensorRecord> tensors;
};

// One key of one cpu_profiling line (or one cell of msit's converted CSV).
struct CpuProfilingRecord {
  std::int64_t line = 0;
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> execute_count;
  std::string op_name;
  std::optional<std::string> id_path;
  std::string phase;  // setup | execute
  std::string key;
  double value = 0;
  std::optional<OpNodeKey> node;
};

struct LabelRow {
  std::string data_id;
  std::optional<std::string> token_id;
  std::optional<std::string> side;
  std::optional<std::string> golden_path;
  std::optional<std::string> my_path;
};

// A cell of an ad-hoc query result.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, std::vector<std::uint8_t>>;

class BlobStream;

struct StoreInfo {
  std::int64_t runs = 0;
  std::int64_t tensors = 0;
  std::int64_t tensors_with_data = 0;
  std::int64_t blobs = 0;
  std::int64_t referenced_raw_bytes = 0;  // sum over tensors (what the dumps hold)
  std::int64_t unique_raw_bytes = 0;      // sum over distinct blobs
  std::int64_t stored_bytes = 0;          // compressed bytes of the blobs
  std::int64_t db_file_bytes = 0;
  std::int64_t ingest_errors = 0;
};

class Store {
 public:
  enum class Mode { ReadWrite, ReadOnly };
  // Opens (creating when ReadWrite) and migrates the database to kSchemaVersion.
  explicit Store(std::string path, Mode mode = Mode::ReadWrite);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] int schema_version() const;

  std::optional<RunInfo> find_run(const std::string& name) const;
  std::optional<RunInfo> find_run_by_id(std::int64_t id) const;
  std::vector<RunInfo> list_runs() const;
  // Op-graph nodes of a run (0 for runs stored before the op graph existed).
  std::int64_t op_node_count(std::int64_t run_id) const;
  // Comparisons that reference a run on either side (deleted with it).
  std::int64_t comparison_count(std::int64_t run_id) const;
  std::optional<TensorRow> get_tensor(std::int64_t id) const;
  // Tensor by run name and file path (relative to the run root) plus optional name inside it.
  std::optional<TensorRow> find_tensor(const std::string& run, const std::string& rel_path,
                                       const std::string& name) const;

  // Decodes a blob and re-hashes it; a mismatch throws IntegrityError naming `what`.
  std::vector<std::byte> read_blob(const BlobKey& key, const std::string& what) const;
  // Same, into `out` (its capacity is reused: no fresh pages per tensor in loops).
  void read_blob_into(const BlobKey& key, const std::string& what, ByteBuffer& out) const;

  StoreInfo info() const;

  // Runs every statement of `sql`; rows of the last statement that returns rows go to on_row,
  // its column names to on_header (called once, before the first row).
  // `params` bind to ?1, ?2, ... of the last statement.
  void execute(const std::string& sql, const std::vector<SqlValue>& params,
               const std::function<void(const std::vector<std::string>&)>& on_header,
               const std::function<void(const std::vector<SqlValue>&)>& on_row);

  // --- comparisons ---
  // Creates the comparison and runs each matcher's INSERT ... SELECT into `pairs` (parameters:
  // ?1 comparison id, ?2 golden run id, ?3 my run id, then `extra`), all in one transaction;
  // then numbers the pairs in my-side execution order. Returns the comparison id.
  std::int64_t create_comparison(std::int64_t golden_run, std::int64_t my_run, const std::string& options_json,
                                 const std::vector<std::pair<std::string, std::string>>& matchers,
                                 const std::vector<SqlValue>& extra);
  // The next `limit` pairs after position `after_seq` (-1: from the start), in seq order; a
  // comparison is read in batches so memory does not grow with its size.
  std::vector<PairTask> pair_tasks(std::int64_t comparison_id, std::int64_t after_seq, std::size_t limit) const;
  // Computes and caches (blobs.md5) the MD5 of the stored bytes of a run's input tensors that
  // have bytes but no MD5 yet, for matchers that pair by MD5. Returns how many were hashed.
  std::size_t cache_input_blob_md5(std::int64_t run_id);
  // Writes all results and closes the comparison, in one transaction.
  void finish_comparison(std::int64_t comparison_id, const std::vector<PairResultRow>& rows);
  // Results written as they come, into this connection's TEMP staging table (no lock on the
  // database, so readers and the comparison's own workers go on); finish_comparison(id) then
  // moves them into `results` and closes the comparison in one transaction.
  void stage_results(const std::vector<PairResultRow>& rows);
  void finish_comparison(std::int64_t comparison_id);

  // --- opcheck / errcheck ---
  // Stores opcheck rows in one transaction; earlier rows of the same op nodes are replaced, so a
  // re-check of some ops keeps the verdicts of the others.
  void write_opcheck_results(const std::vector<OpcheckResultRow>& rows);
  // Replaces the run's errcheck rows of `source` (scan | msit_overflow_res), in one transaction.
  void write_errcheck_results(std::int64_t run_id, const std::string& source, const std::vector<ErrcheckResultRow>& rows);

  // Registers a scalar SQL function on this connection (NULL in -> NULL out is the caller's job).
  using SqlFunction = std::function<SqlValue(const std::vector<SqlValue>&)>;
  void add_function(const std::string& name, int nargs, SqlFunction fn);

  SQLite::Database& db();  // for IngestTransaction only

  // --- run catalog: what the CLI's safety checks and lookups need (schema/src/run_catalog.cpp) ---
  // Ids of the comparisons that reference a run on either side, ascending.
  std::vector<std::int64_t> comparison_ids_of_run(std::int64_t run_id) const;
  // The first statement of `sql` that would write to a database (INSERT, UPDATE, DELETE, DDL,
  // VACUUM, ...), as written and trimmed; nullopt when every statement only reads. Statements are
  // prepared, never run; checking stops at the first one that does not prepare (it may name a
  // table an earlier statement creates), and that one is left to fail when it runs.
  std::optional<std::string> first_writing_statement(const std::string& sql) const;
  // Tensors whose file path, as the `report` view prints it (the run's source root joined with
  // the file's relative path, or the root itself for a single-file run), is `path`; only those
  // whose name inside the file is `name` unless `name` is empty. Ascending by id.
  std::vector<TensorRow> find_tensors_by_report_path(const std::string& path, const std::string& name) const;
  // The logical token (after the warm-up remap) of an op node; nullopt for a warm-up or no token.
  std::optional<std::int64_t> logical_token(std::int64_t op_node_id) const;

 private:
  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
  std::vector<std::unique_ptr<SqlFunction>> functions_;  // owned here, called by SQLite
  // Prepared statements and blob handle of one BlobStream, kept for the next stream: a
  // comparison opens two streams per pair, and preparing afresh per tensor is what the
  // "prepared statements reused in loops" rule is about.
  struct BlobReader;
  mutable std::vector<std::unique_ptr<BlobReader>> spare_blob_readers_;
  friend class BlobStream;
};

// Reads one stored blob front to back in blocks, decoding a chunk at a time and restoring each
// block's byte order in a small buffer while feeding the content hash, so a consumer can work on
// cache-resident blocks instead of a full copy. finish() verifies size and hash; until it has
// returned, the bytes must be treated as unverified.
class BlobStream {
 public:
  BlobStream(const Store& store, const BlobKey& key, std::string what);
  ~BlobStream();
  BlobStream(const BlobStream&) = delete;
  BlobStream& operator=(const BlobStream&) = delete;
  [[nodiscard]] std::uint64_t size() const { return raw_size_; }
  // The next `bytes` bytes (fewer at the end), valid until the next call.
  std::span<const std::byte> next(std::size_t bytes);
  // The next `bytes` bytes into dst (all of them must remain).
  void read(std::byte* dst, std::size_t bytes);
  // Throws IntegrityError naming `what` unless every byte was read and the hash matches.
  void finish();

 private:
  void load_chunk();
  struct State;
  std::string what_;
  BlobKey key_;
  std::string codec_;
  std::uint32_t elem_size_ = 1;
  std::uint64_t raw_size_ = 0;
  std::int64_t chunk_count_ = 0;
  std::int64_t chunks_read_ = 0;
  std::uint64_t consumed_ = 0;
  const Store& store_;
  std::unique_ptr<Store::BlobReader> reader_;  // back to the store's spares on destruction
  ByteBuffer planes_;       // current chunk, decoded, still shuffled
  std::size_t chunk_bytes_ = 0;
  std::size_t chunk_pos_ = 0;  // bytes of the current chunk already handed out
  ByteBuffer block_;
  std::unique_ptr<State> state_;  // incremental hash
};

struct RunSpec {
  std::string name;
  std::string flavour;
  std::string source_root;
  std::string options;  // JSON
};

// The write side of one ingest: a single transaction. Destroying it without commit() rolls back,
// so a failed or killed ingest leaves no trace of the run.
class IngestTransaction {
 public:
  // Starts the transaction and creates the run. With replace, an existing run of that name is
  // deleted inside the same transaction (and orphaned blobs with it).
  IngestTransaction(Store& store, const RunSpec& spec, bool replace);
  ~IngestTransaction();
  IngestTransaction(const IngestTransaction&) = delete;
  IngestTransaction& operator=(const IngestTransaction&) = delete;

  [[nodiscard]] std::int64_t run_id() const { return run_id_; }
  std::int64_t add_file(const FileRow& f);
  // Stores the blob unless its key is already present; returns true when it was new.
  bool put_blob(const EncodedBlob& b);
  std::int64_t add_tensor(const TensorRow& t);
  // Creates the node or, when it exists, adds the param; returns its id.
  std::int64_t add_op_node(const OpNodeRow& node);
  // --- finalising the op graph (ingest/src/op_graph_builder.cpp) ---
  // (rank_key, folder) groups holding nodes of `kind`, and the nodes of one group.
  std::vector<std::pair<std::string, std::string>> op_node_groups(const std::string& kind);
  std::vector<OpNodeRef> op_nodes_of(const std::string& kind, const std::string& rank_key, const std::string& folder);
  void link_op_node(std::int64_t id, std::optional<std::int64_t> parent_id, const std::string& order_key,
                    std::int64_t depth, const std::optional<std::string>& type, std::optional<std::int64_t> sibling_pos);
  std::int64_t add_graph_op(const GraphOpRow& op);
  void add_op_edge(std::int64_t src_op, std::int64_t dst_op, const std::string& tensor_name);
  void add_rank(const RankRow& rank);
  // Statements of the ingest's own finalising steps (op graph), inside this transaction; every
  // statement binds `params` to ?1, ?2, ...; rows of row-returning statements go to on_row.
  void run_sql(const std::string& sql, const std::vector<SqlValue>& params,
               const std::function<void(const std::vector<SqlValue>&)>& on_row = {});
  void add_error(const std::string& rel_path, const std::string& reason);
  // --- probe side files (schema/src/op_io_store.cpp), after the op graph is built ---
  // Rows of one op io CSV (file_id: its `files` row), each linked to the op node its key names
  // and each listed tensor to the stored tensor its path names (inputs: the named phase, else the
  // other; outputs: after/ first, where an output exists once the op ran). Returns how many
  // listed tensor paths named no stored tensor.
  std::int64_t add_op_io_rows(std::int64_t file_id, const std::vector<OpIoRecord>& rows);
  void add_cpu_profiling(std::int64_t file_id, const std::vector<CpuProfilingRecord>& records);
  void add_label(std::int64_t file_id, const LabelRow& label);
  // Replaces the run's options JSON (what the ingest learnt while walking, e.g. the source signature).
  void set_run_options(const std::string& options_json);
  // ATB alias files (docs/formats.md): take blob, dtype, shape and stats from the named tensor of
  // the same rank and token. Returns (file, alias) of those left unresolved.
  std::vector<std::pair<std::string, std::string>> resolve_aliases();
  void commit();

 private:
  struct Statements;
  Store& store_;
  std::int64_t run_id_ = 0;
  bool done_ = false;
  std::unique_ptr<Statements> st_;
};

}  // namespace aitdb
