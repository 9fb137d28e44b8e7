#pragma once
// The one place that opens SQLite. Everything else talks to the warehouse through Store (reads,
// ad-hoc SQL) and the write transactions built on it: IngestTransaction (ingest_transaction.h),
// ComparisonTransaction (comparison_store.h). Blobs are read through BlobStream (blob_stream.h).
// Which source file owns which concern: docs/architecture.md.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "aitdb/schema/blob_codec.h"
#include "aitdb/schema/dtype.h"
#include "aitdb/schema/schema_version.h"
#include "aitdb/schema/stats.h"

namespace SQLite {
class Database;
}  // namespace SQLite

namespace aitdb {

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

// A cell of an ad-hoc query result.
using SqlValue = std::variant<std::monostate, std::int64_t, double, std::string, std::vector<std::uint8_t>>;

class BlobStream;
class IngestTransaction;
class ComparisonTransaction;
struct OpcheckResultRow;   // comparison_store.h
struct ErrcheckResultRow;  // comparison_store.h

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
  // Opens (creating when ReadWrite) and migrates the database to kSchemaVersion. The file is in
  // WAL mode: readers go on while one writer writes, and a writer waits for the one before it
  // (docs/schema.md). A read-write open also drops comparisons an older aitdb left unfinished.
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
  std::optional<TensorRow> get_tensor(std::int64_t id) const;
  // Tensor by run name and file path (relative to the run root) plus optional name inside it.
  std::optional<TensorRow> find_tensor(const std::string& run, const std::string& rel_path,
                                       const std::string& name) const;

  // Decodes a blob and re-hashes it; a mismatch throws IntegrityError naming `what`.
  std::vector<std::byte> read_blob(const BlobKey& key, const std::string& what) const;
  // Same, into `out` (its capacity is reused: no fresh pages per tensor in loops).
  void read_blob_into(const BlobKey& key, const std::string& what, ByteBuffer& out) const;

  StoreInfo info() const;

  // Runs every statement of `sql`, in order: each statement's column names go to on_header
  // (once, before its first row; for the last statement also when it returns no rows), its rows
  // to on_row. `params` bind to ?1, ?2, ... of every statement.
  void execute(const std::string& sql, const std::vector<SqlValue>& params,
               const std::function<void(const std::vector<std::string>&)>& on_header,
               const std::function<void(const std::vector<SqlValue>&)>& on_row);

  // --- comparisons (written through ComparisonTransaction, comparison_store.h) ---
  // Computes and caches (blobs.md5) the MD5 of the stored bytes of a run's input tensors that
  // have bytes but no MD5 yet, for matchers that pair by MD5. Returns how many were hashed.
  std::size_t cache_input_blob_md5(std::int64_t run_id);

  // --- opcheck / errcheck ---
  // Stores opcheck rows in one transaction; earlier rows of the same op nodes are replaced, so a
  // re-check of some ops keeps the verdicts of the others.
  void write_opcheck_results(const std::vector<OpcheckResultRow>& rows);
  // Replaces the run's errcheck rows of `source` (scan | msit_overflow_res), in one transaction.
  void write_errcheck_results(std::int64_t run_id, const std::string& source,
                              const std::vector<ErrcheckResultRow>& rows);

  // Registers a scalar SQL function on this connection (NULL in -> NULL out is the caller's job).
  // `deterministic`: the same arguments always give the same result, so SQLite may evaluate it
  // once per statement and use it where only deterministic functions are allowed.
  using SqlFunction = std::function<SqlValue(const std::vector<SqlValue>&)>;
  void add_function(const std::string& name, int nargs, SqlFunction fn, bool deterministic = false);

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
  void set_up(Mode mode);
  void check_version(int version) const;
  void wait_for_locks();
  void drop_unfinished_comparisons();

  std::string path_;
  std::unique_ptr<SQLite::Database> db_;
  std::vector<std::unique_ptr<SqlFunction>> functions_;  // owned here, called by SQLite
  // Prepared statements and blob handle of one BlobStream, kept for the next stream: a
  // comparison opens two streams per pair, and preparing afresh per tensor is what the
  // "prepared statements reused in loops" rule is about.
  struct BlobReader;
  mutable std::vector<std::unique_ptr<BlobReader>> spare_blob_readers_;
  friend class IngestTransaction;
  friend class ComparisonTransaction;
  friend class BlobStream;
};

}  // namespace aitdb
