// Store: opening the database (WAL, lock waits, migrations) and the typed reads of runs and tensors.
#include "aitdb/schema/store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "aitdb/schema/errors.h"
#include "sqlite_support.h"

namespace aitdb {
namespace detail {
extern const char* const kMigrations[];
extern const int kMigrationCount;
}  // namespace detail

using detail::opt_int;
using detail::opt_real;
using detail::opt_text;

namespace {

constexpr const char* kTensorColumns =
    "t.id, t.run_id, t.file_id, t.source_kind, t.rank_key, t.device_id, t.pid, t.token, t.op_path, "
    "t.op_names, t.op_type, t.phase, t.io, t.io_index, t.io_subindex, t.io_name, t.dtype, t.format, "
    "t.shape, t.numel, t.nbytes, t.blob_key, t.md5, t.min, t.max, t.mean, t.std, t.l2norm, "
    "t.nan_count, t.inf_count, t.zero_count, t.stats_source, t.alias_of, t.flags, f.rel_path, t.op_node_id";

std::vector<std::int64_t> parse_shape(const std::string& s) {
  // Shapes are written by shape_to_json: '[', comma-separated integers, ']'.
  std::vector<std::int64_t> dims;
  std::string cur;
  for (char ch : s) {
    if ((ch >= '0' && ch <= '9') || ch == '-') {
      cur += ch;
    } else if (!cur.empty()) {
      dims.push_back(std::stoll(cur));
      cur.clear();
    }
  }
  return dims;
}

TensorRow read_tensor(SQLite::Statement& q) {
  TensorRow t;
  int i = 0;
  t.id = q.getColumn(i++).getInt64();
  t.run_id = q.getColumn(i++).getInt64();
  t.file_id = opt_int(q.getColumn(i++));
  t.source_kind = q.getColumn(i++).getString();
  t.rank_key = opt_text(q.getColumn(i++));
  t.device_id = opt_int(q.getColumn(i++));
  t.pid = opt_int(q.getColumn(i++));
  t.token = opt_int(q.getColumn(i++));
  t.op_path = opt_text(q.getColumn(i++));
  t.op_names = opt_text(q.getColumn(i++));
  t.op_type = opt_text(q.getColumn(i++));
  t.phase = opt_text(q.getColumn(i++));
  t.io = opt_text(q.getColumn(i++));
  t.io_index = opt_int(q.getColumn(i++));
  t.io_subindex = opt_int(q.getColumn(i++));
  t.io_name = opt_text(q.getColumn(i++));
  if (auto d = opt_text(q.getColumn(i++))) t.dtype = dtype_from_name(*d);
  t.format = opt_int(q.getColumn(i++));
  if (auto s = opt_text(q.getColumn(i++))) t.shape = parse_shape(*s);
  t.numel = opt_int(q.getColumn(i++));
  t.nbytes = opt_int(q.getColumn(i++));
  if (const SQLite::Column c = q.getColumn(i++); !c.isNull()) t.blob_key = detail::key_of(c);
  t.md5 = opt_text(q.getColumn(i++));
  t.stats.min = opt_real(q.getColumn(i++));
  t.stats.max = opt_real(q.getColumn(i++));
  t.stats.mean = opt_real(q.getColumn(i++));
  t.stats.std = opt_real(q.getColumn(i++));
  t.stats.l2norm = opt_real(q.getColumn(i++));
  const auto nan = opt_int(q.getColumn(i++));
  const auto inf = opt_int(q.getColumn(i++));
  const auto zero = opt_int(q.getColumn(i++));
  t.has_stats = nan.has_value() || t.stats.max.has_value();
  t.stats.nan_count = static_cast<std::uint64_t>(nan.value_or(0));
  t.stats.inf_count = static_cast<std::uint64_t>(inf.value_or(0));
  t.stats.zero_count = static_cast<std::uint64_t>(zero.value_or(0));
  t.stats_source = opt_text(q.getColumn(i++));
  t.alias_of = opt_text(q.getColumn(i++));
  t.flags = opt_text(q.getColumn(i++));
  t.rel_path = opt_text(q.getColumn(i++));
  t.op_node_id = opt_int(q.getColumn(i++));
  return t;
}

RunInfo read_run(SQLite::Statement& q) {
  RunInfo r;
  r.id = q.getColumn(0).getInt64();
  r.name = q.getColumn(1).getString();
  r.flavour = q.getColumn(2).getString();
  r.source_root = q.getColumn(3).getString();
  r.created_at = q.getColumn(4).getString();
  r.tool_version = q.getColumn(5).getString();
  r.options = q.getColumn(6).getString();
  r.tensor_count = q.getColumn(7).getInt64();
  r.file_count = q.getColumn(8).getInt64();
  r.error_count = q.getColumn(9).getInt64();
  r.raw_bytes = q.getColumn(10).getInt64();
  return r;
}

constexpr const char* kRunSelect =
    "SELECT r.id, r.name, r.flavour, r.source_root, r.created_at, r.tool_version, "
    "coalesce(r.options, ''), "
    "(SELECT count(*) FROM tensors t WHERE t.run_id = r.id), "
    "(SELECT count(*) FROM files f WHERE f.run_id = r.id), "
    "(SELECT count(*) FROM ingest_errors e WHERE e.run_id = r.id), "
    "(SELECT coalesce(sum(t.nbytes), 0) FROM tensors t WHERE t.run_id = r.id AND t.blob_key IS NOT NULL) "
    "FROM runs r ";

// Lock waits. In WAL mode a reader never waits for a writer, so the only waits are writer behind
// writer (two ingests, an ingest and a comparison): those wait for the other to commit however
// long it takes, instead of failing with "database is locked". Without WAL (a file system
// without shared memory) a reader can wait for a writer of its own process, so the wait is bounded.
constexpr int kLockWaitWithoutWalMs = 10000;
constexpr int kLockPollMaxMs = 50;
constexpr int kOpenRetryMs = 60000;
constexpr std::int64_t kWalKeptBytes = 64LL << 20;

int wait_for_lock(void* /*unused*/, int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::min(1 + attempt, kLockPollMaxMs)));
  return 1;  // try again
}

}  // namespace

void Store::wait_for_locks() {
  const std::string mode = db_->execAndGet("PRAGMA journal_mode").getString();
  if (mode == "wal") {
    sqlite3_busy_handler(db_->getHandle(), &wait_for_lock, nullptr);
  } else {
    sqlite3_busy_timeout(db_->getHandle(), kLockWaitWithoutWalMs);
  }
}

void Store::drop_unfinished_comparisons() {
  // A comparison is written in one transaction, so an unfinished one can only be left by an
  // older aitdb that wrote pairs and results in two. Look before deleting: a read takes no
  // lock, and a read-write open must not wait for a running ingest when there is nothing to do.
  if (db_->execAndGet("SELECT EXISTS (SELECT 1 FROM comparisons WHERE finished_at IS NULL)").getInt() == 0) return;
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
  db_->exec("DELETE FROM comparisons WHERE finished_at IS NULL");  // pairs and results cascade
  tx.commit();
}

Store::Store(std::string path, Mode mode) : path_(std::move(path)) {
  try {
    const int flags = mode == Mode::ReadOnly ? SQLite::OPEN_READONLY : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    if (mode == Mode::ReadOnly && !std::filesystem::exists(path_)) {
      throw StoreError(path_, "database does not exist (run `aitdb ingest` first)");
    }
    if (detail::kMigrationCount != kSchemaVersion) {
      throw InternalError(path_, "embedded migrations and kSchemaVersion disagree; re-run cmake");
    }
    db_ = std::make_unique<SQLite::Database>(path_, flags);
    // While another process creates the file or switches it to WAL, SQLite answers "busy" from
    // places where it calls no busy handler; those moments are short, so the setup is retried.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kOpenRetryMs);
    for (;;) {
      try {
        set_up(mode);
        break;
      } catch (const SQLite::Exception& e) {
        if (e.getErrorCode() != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) throw;
        std::this_thread::sleep_for(std::chrono::milliseconds(kLockPollMaxMs));
      }
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("cannot open database: ") + e.what());
  }
}

void Store::set_up(Mode mode) {
  // Bounded until the file is known to be in WAL mode: without WAL a writer can shut readers out.
  sqlite3_busy_timeout(db_->getHandle(), kLockWaitWithoutWalMs);
  if (mode == Mode::ReadWrite) {
    // Large pages suit a store dominated by multi-MiB blobs. Only effective on a new file, and
    // only before WAL is switched on (the WAL fixes the page size).
    db_->exec("PRAGMA page_size = 65536");
    // WAL: readers keep reading their snapshot while an ingest or a comparison writes; the
    // mode is stored in the file, so read-only opens get it too (docs/schema.md).
    db_->exec("PRAGMA journal_mode = WAL");
    // An ingest's WAL grows to the size of the ingest; give the disk space back once checkpointed.
    db_->exec("PRAGMA journal_size_limit = " + std::to_string(kWalKeptBytes));
  }
  wait_for_locks();
  db_->exec("PRAGMA foreign_keys = ON");
  check_version(schema_version());
  if (schema_version() < kSchemaVersion) {
    if (mode == Mode::ReadOnly) throw StoreError(path_, "database needs a migration; open it read-write once");
    // Take the write lock first, then look again: another process may have migrated (or
    // created) the schema between our first look and now.
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    const int version = schema_version();
    check_version(version);
    for (int v = version; v < kSchemaVersion; ++v) {
      db_->exec(detail::kMigrations[v]);
      db_->exec("PRAGMA user_version = " + std::to_string(v + 1));
    }
    tx.commit();
  }
  if (mode == Mode::ReadWrite) drop_unfinished_comparisons();
}

void Store::check_version(int version) const {
  if (version > kSchemaVersion) {
    throw StoreError(path_, "schema version " + std::to_string(version) + " is newer than this aitdb understands (" +
                                std::to_string(kSchemaVersion) + ")");
  }
}

Store::~Store() = default;

int Store::schema_version() const {
  return db_->execAndGet("PRAGMA user_version").getInt();
}

std::optional<RunInfo> Store::find_run(const std::string& name) const {
  SQLite::Statement q(*db_, std::string(kRunSelect) + "WHERE r.name = ?");
  q.bind(1, name);
  if (!q.executeStep()) return std::nullopt;
  return read_run(q);
}

std::int64_t Store::op_node_count(std::int64_t run_id) const {
  SQLite::Statement q(*db_, "SELECT count(*) FROM op_nodes WHERE run_id = ?");
  q.bind(1, run_id);
  q.executeStep();
  return q.getColumn(0).getInt64();
}

std::optional<RunInfo> Store::find_run_by_id(std::int64_t id) const {
  SQLite::Statement q(*db_, std::string(kRunSelect) + "WHERE r.id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_run(q);
}

std::vector<RunInfo> Store::list_runs() const {
  SQLite::Statement q(*db_, std::string(kRunSelect) + "ORDER BY r.id");
  std::vector<RunInfo> out;
  while (q.executeStep()) out.push_back(read_run(q));
  return out;
}

std::optional<TensorRow> Store::get_tensor(std::int64_t id) const {
  SQLite::Statement q(*db_, std::string("SELECT ") + kTensorColumns +
                                " FROM tensors t LEFT JOIN files f ON f.id = t.file_id WHERE t.id = ?");
  q.bind(1, id);
  if (!q.executeStep()) return std::nullopt;
  return read_tensor(q);
}

std::optional<TensorRow> Store::find_tensor(const std::string& run, const std::string& rel_path,
                                            const std::string& name) const {
  SQLite::Statement q(*db_, std::string("SELECT ") + kTensorColumns +
                                " FROM tensors t JOIN files f ON f.id = t.file_id JOIN runs r ON r.id = t.run_id"
                                " WHERE r.name = ? AND f.rel_path = ? AND coalesce(t.io_name, '') = ?"
                                " ORDER BY t.id LIMIT 1");
  q.bind(1, run);
  q.bind(2, rel_path);
  q.bind(3, name);
  if (!q.executeStep()) return std::nullopt;
  return read_tensor(q);
}

StoreInfo Store::info() const {
  StoreInfo i;
  i.runs = db_->execAndGet("SELECT count(*) FROM runs").getInt64();
  SQLite::Statement t(*db_,
                      "SELECT count(*), count(blob_key), coalesce(sum(CASE WHEN blob_key IS NOT NULL "
                      "THEN nbytes END), 0) FROM tensors");
  t.executeStep();
  i.tensors = t.getColumn(0).getInt64();
  i.tensors_with_data = t.getColumn(1).getInt64();
  i.referenced_raw_bytes = t.getColumn(2).getInt64();
  SQLite::Statement b(*db_, "SELECT count(*), coalesce(sum(raw_size), 0), coalesce(sum(stored_size), 0) FROM blobs");
  b.executeStep();
  i.blobs = b.getColumn(0).getInt64();
  i.unique_raw_bytes = b.getColumn(1).getInt64();
  i.stored_bytes = b.getColumn(2).getInt64();
  i.ingest_errors = db_->execAndGet("SELECT count(*) FROM ingest_errors").getInt64();
  std::error_code ec;
  const auto size = std::filesystem::file_size(path_, ec);
  i.db_file_bytes = ec ? 0 : static_cast<std::int64_t>(size);
  return i;
}

}  // namespace aitdb
