#include "aitdb/schema/store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <array>
#include <filesystem>
#include <sstream>

#include "aitdb/schema/errors.h"

namespace aitdb {
namespace detail {
extern const char* const kMigrations[];
extern const int kMigrationCount;
}  // namespace detail

namespace {

constexpr const char* kTensorColumns =
    "t.id, t.run_id, t.file_id, t.source_kind, t.rank_key, t.device_id, t.pid, t.token, t.op_path, "
    "t.op_names, t.op_type, t.phase, t.io, t.io_index, t.io_subindex, t.io_name, t.dtype, t.format, "
    "t.shape, t.numel, t.nbytes, t.blob_key, t.md5, t.min, t.max, t.mean, t.std, t.l2norm, "
    "t.nan_count, t.inf_count, t.zero_count, t.stats_source, t.alias_of, t.flags, f.rel_path, t.op_node_id";

std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}
std::optional<double> opt_real(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

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
  {
    const SQLite::Column c = q.getColumn(i++);
    if (!c.isNull()) {
      t.blob_key = BlobKey::from_bytes(
          {static_cast<const std::uint8_t*>(c.getBlob()), static_cast<std::size_t>(c.getBytes())});
    }
  }
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

template <typename T>
void bind_opt(SQLite::Statement& s, int idx, const std::optional<T>& v) {
  if (v) {
    s.bind(idx, *v);
  } else {
    s.bind(idx);
  }
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

// Same columns as `results`, in its order.
constexpr const char* kResultStageDdl = R"sql(
  CREATE TEMP TABLE IF NOT EXISTS result_stage (pair_id INTEGER PRIMARY KEY, cosine_similarity REAL,
    max_relative_error REAL, mean_relative_error REAL, max_absolute_error REAL, mean_absolute_error REAL,
    kl_divergence REAL, relative_euclidean_distance REAL, euc_dist REAL, msprobe_cosine REAL,
    one_thousandth_err_ratio REAL, five_thousandths_err_ratio REAL, accuracy_reached TEXT,
    cmp_fail_reason TEXT NOT NULL))sql";

constexpr const char* kRunSelect =
    "SELECT r.id, r.name, r.flavour, r.source_root, r.created_at, r.tool_version, "
    "coalesce(r.options, ''), "
    "(SELECT count(*) FROM tensors t WHERE t.run_id = r.id), "
    "(SELECT count(*) FROM files f WHERE f.run_id = r.id), "
    "(SELECT count(*) FROM ingest_errors e WHERE e.run_id = r.id), "
    "(SELECT coalesce(sum(t.nbytes), 0) FROM tensors t WHERE t.run_id = r.id AND t.blob_key IS NOT NULL) "
    "FROM runs r ";

}  // namespace

Store::Store(std::string path, Mode mode) : path_(std::move(path)) {
  try {
    const int flags = mode == Mode::ReadOnly ? SQLite::OPEN_READONLY
                                             : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    if (mode == Mode::ReadOnly && !std::filesystem::exists(path_)) {
      throw StoreError(path_, "database does not exist (run `aitdb ingest` first)");
    }
    db_ = std::make_unique<SQLite::Database>(path_, flags, 10000);
    // Large pages suit a store dominated by multi-MiB blobs; only effective on a new file.
    if (mode == Mode::ReadWrite) db_->exec("PRAGMA page_size = 65536");
    db_->exec("PRAGMA foreign_keys = ON");
    const int version = schema_version();
    if (version > kSchemaVersion) {
      throw StoreError(path_, "schema version " + std::to_string(version) +
                                  " is newer than this aitdb understands (" +
                                  std::to_string(kSchemaVersion) + ")");
    }
    if (version < detail::kMigrationCount) {
      if (mode == Mode::ReadOnly) throw StoreError(path_, "database needs a migration; open it read-write once");
      SQLite::Transaction tx(*db_);
      for (int v = version; v < detail::kMigrationCount; ++v) {
        db_->exec(detail::kMigrations[v]);
        db_->exec("PRAGMA user_version = " + std::to_string(v + 1));
      }
      tx.commit();
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("cannot open database: ") + e.what());
  }
}

Store::~Store() = default;

SQLite::Database& Store::db() { return *db_; }

int Store::schema_version() const { return db_->execAndGet("PRAGMA user_version").getInt(); }

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

std::int64_t Store::comparison_count(std::int64_t run_id) const {
  SQLite::Statement q(*db_, "SELECT count(*) FROM comparisons WHERE golden_run_id = ?1 OR my_run_id = ?1");
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

std::vector<std::byte> Store::read_blob(const BlobKey& key, const std::string& what) const {
  ByteBuffer out;
  read_blob_into(key, what, out);
  return {out.begin(), out.end()};
}

std::size_t Store::cache_input_blob_md5(std::int64_t run_id) {
  std::vector<std::vector<std::uint8_t>> keys;
  execute(
      "SELECT DISTINCT b.key FROM tensors t JOIN blobs b ON b.key = t.blob_key "
      "WHERE t.run_id = ?1 AND t.io = 'in' AND b.md5 IS NULL",
      {run_id}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) { keys.push_back(std::get<std::vector<std::uint8_t>>(r[0])); });
  ByteBuffer bytes;
  SQLite::Transaction tx(*db_);  // one commit for all the hashes
  for (const auto& k : keys) {
    read_blob_into(BlobKey::from_bytes(k), "input blob of run " + std::to_string(run_id), bytes);
    execute("UPDATE blobs SET md5 = ?1 WHERE key = ?2",
            {md5_hex(std::span<const std::byte>(bytes.data(), bytes.size())), k}, [](const auto&) {},
            [](const auto&) {});
  }
  tx.commit();
  return keys.size();
}

void Store::read_blob_into(const BlobKey& key, const std::string& what, ByteBuffer& out) const {
  BlobStream stream(*this, key, what);
  out.resize(static_cast<std::size_t>(stream.size()));
  stream.read(out.data(), out.size());
  stream.finish();
}

namespace {
// Streams come and go per tensor; their buffers stay with the thread so the pages are reused
// instead of being mapped and faulted in again for every tensor. One pool per role: a pool shared
// by the multi-MiB chunk buffers and the small block buffers handed a small buffer to a big role
// at random, and the regrowth (fresh pages, page faults, munmap) cost 20% of a small comparison.
enum class BufferRole : std::size_t { Stored, Planes, Block, Count };
thread_local std::array<std::vector<ByteBuffer>, static_cast<std::size_t>(BufferRole::Count)> spare_buffers;
ByteBuffer take_buffer(BufferRole role) {
  auto& pool = spare_buffers[static_cast<std::size_t>(role)];
  if (pool.empty()) return {};
  ByteBuffer b = std::move(pool.back());
  pool.pop_back();
  return b;
}
void give_buffer(BufferRole role, ByteBuffer&& b) {
  auto& pool = spare_buffers[static_cast<std::size_t>(role)];
  if (pool.size() < 4) pool.push_back(std::move(b));  // a comparison holds two streams per thread
}
}  // namespace

struct Store::BlobReader {
  explicit BlobReader(const SQLite::Database& db)
      : meta(db, "SELECT codec, elem_size, raw_size, chunk_count FROM blobs WHERE key = ?"),
        chunks(db, "SELECT seq, rowid, length(data) FROM blob_chunks WHERE key = ? ORDER BY seq"),
        handle(db.getHandle()) {}
  SQLite::Statement meta;
  SQLite::Statement chunks;
  // Chunks are read through the incremental-blob API (reopened per chunk) into a buffer reused
  // across chunks and tensors: as a column value each chunk was assembled in a fresh multi-MiB
  // allocation, and page faults plus heap trimming cost more than the copy itself. The handle
  // holds a read transaction, so it is closed when its stream ends, never kept in the spares.
  std::unique_ptr<sqlite3_blob, decltype(&sqlite3_blob_close)> blob{nullptr, &sqlite3_blob_close};
  sqlite3* handle;
};

struct BlobStream::State {
  ContentHasher hash;
  ByteBuffer stored = take_buffer(BufferRole::Stored);
};

BlobStream::BlobStream(const Store& store, const BlobKey& key, std::string what)
    : what_(std::move(what)),
      key_(key),
      store_(store),
      planes_(take_buffer(BufferRole::Planes)),
      block_(take_buffer(BufferRole::Block)),
      state_(std::make_unique<State>()) {
  if (store.spare_blob_readers_.empty()) {
    reader_ = std::make_unique<Store::BlobReader>(*store.db_);
  } else {
    reader_ = std::move(store.spare_blob_readers_.back());
    store.spare_blob_readers_.pop_back();
  }
  SQLite::Statement& meta = reader_->meta;
  meta.bind(1, key.bytes.data(), static_cast<int>(key.bytes.size()));
  if (!meta.executeStep()) throw IntegrityError(what_, "blob " + key.hex() + " is missing from the store");
  codec_ = meta.getColumn(0).getString();
  elem_size_ = static_cast<std::uint32_t>(meta.getColumn(1).getInt64());
  raw_size_ = static_cast<std::uint64_t>(meta.getColumn(2).getInt64());
  chunk_count_ = meta.getColumn(3).getInt64();
  meta.reset();
  if (elem_size_ == 0) throw IntegrityError(what_, "blob " + key.hex() + " has element size 0");
  reader_->chunks.bind(1, key.bytes.data(), static_cast<int>(key.bytes.size()));
}

BlobStream::~BlobStream() {
  give_buffer(BufferRole::Stored, std::move(state_->stored));
  give_buffer(BufferRole::Planes, std::move(planes_));
  give_buffer(BufferRole::Block, std::move(block_));
  if (!reader_) return;
  try {
    reader_->blob.reset();
    reader_->chunks.reset();  // meta was reset by the constructor
    if (store_.spare_blob_readers_.size() < 4) store_.spare_blob_readers_.push_back(std::move(reader_));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a reader that cannot be reset is just dropped
  }
}

void BlobStream::load_chunk() {
  SQLite::Statement& chunks = reader_->chunks;
  if (!chunks.executeStep()) throw IntegrityError(what_, "blob " + key_.hex() + " is incomplete in the store");
  if (chunks.getColumn(0).getInt64() != chunks_read_++) {
    throw IntegrityError(what_, "blob " + key_.hex() + " has a missing chunk");
  }
  const sqlite3_int64 rowid = chunks.getColumn(1).getInt64();
  const auto stored_bytes = static_cast<std::size_t>(chunks.getColumn(2).getInt64());
  int rc = SQLITE_OK;
  auto& blob = reader_->blob;
  if (blob) {
    rc = sqlite3_blob_reopen(blob.get(), rowid);
  } else {
    sqlite3_blob* opened = nullptr;
    rc = sqlite3_blob_open(reader_->handle, "main", "blob_chunks", "data", rowid, 0, &opened);
    blob.reset(opened);
  }
  sqlite3_blob* raw = blob.get();
  const auto unreadable = [&] {
    return IntegrityError(what_, "blob " + key_.hex() + ": cannot read chunk " + std::to_string(chunks_read_ - 1) +
                                     ": " + sqlite3_errmsg(reader_->handle));
  };
  if (rc != SQLITE_OK || raw == nullptr || static_cast<std::size_t>(sqlite3_blob_bytes(raw)) != stored_bytes) {
    throw unreadable();
  }
  ByteBuffer& stored = state_->stored;
  if (stored.size() < stored_bytes) stored.resize(stored_bytes);
  if (sqlite3_blob_read(raw, stored.data(), static_cast<int>(stored_bytes), 0) != SQLITE_OK) throw unreadable();
  try {
    chunk_bytes_ = decode_chunk_planes(codec_, {stored.data(), stored_bytes}, planes_);
  } catch (const IntegrityError& e) {
    throw IntegrityError(what_, "blob " + key_.hex() + ": " + e.reason());
  }
  if (codec_ == "shuffle+zstd" && chunk_bytes_ % elem_size_ != 0) {
    throw IntegrityError(what_, "blob " + key_.hex() + ": chunk size not a multiple of element size");
  }
  chunk_pos_ = 0;
}

std::span<const std::byte> BlobStream::next(std::size_t bytes) {
  bytes = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, raw_size_ - consumed_));
  if (block_.size() < bytes) block_.resize(bytes);
  read(block_.data(), bytes);
  return {block_.data(), bytes};
}

void BlobStream::read(std::byte* dst, std::size_t bytes) {
  if (bytes > raw_size_ - consumed_) throw IntegrityError(what_, "read past the end of blob " + key_.hex());
  std::size_t filled = 0;
  while (filled < bytes) {
    if (chunk_pos_ == chunk_bytes_) load_chunk();
    const std::size_t take = std::min(bytes - filled, chunk_bytes_ - chunk_pos_);
    if (codec_ == "shuffle+zstd") {
      if (take % elem_size_ != 0) throw IntegrityError(what_, "block is not a whole number of elements");
      unshuffle_block(planes_.data(), chunk_bytes_ / elem_size_, chunk_pos_ / elem_size_, take / elem_size_, elem_size_,
                      dst + filled);
    } else {
      std::copy_n(planes_.data() + chunk_pos_, take, dst + filled);
    }
    chunk_pos_ += take;
    filled += take;
  }
  state_->hash.update({dst, bytes});
  consumed_ += bytes;
}

void BlobStream::finish() {
  if (consumed_ != raw_size_ || chunks_read_ != chunk_count_ || chunk_pos_ != chunk_bytes_) {
    throw IntegrityError(what_, "blob " + key_.hex() + " was not read to its end or has extra chunks");
  }
  if (state_->hash.key() != key_) {
    throw IntegrityError(what_, "blob " + key_.hex() + " failed its content hash check (corrupted store)");
  }
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

void Store::execute(const std::string& sql, const std::vector<SqlValue>& params,
                    const std::function<void(const std::vector<std::string>&)>& on_header,
                    const std::function<void(const std::vector<SqlValue>&)>& on_row) {
  sqlite3* h = db_->getHandle();
  const char* tail = sql.c_str();
  const char* end = sql.c_str() + sql.size();
  // The result of the last row-returning statement is the one shown, so buffer per statement only
  // the header; rows stream out as they come (earlier statements' rows are rare: PRAGMAs etc.).
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(h, tail, static_cast<int>(end - tail), &raw, &next) != SQLITE_OK) {
      throw Error(ErrorKind::Usage, "", std::string("SQL error: ") + sqlite3_errmsg(h));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    tail = next;
    if (!stmt) continue;  // whitespace or comment only
    const int nparam = sqlite3_bind_parameter_count(stmt.get());
    for (int k = 0; k < nparam && k < static_cast<int>(params.size()); ++k) {
      const auto& v = params[static_cast<std::size_t>(k)];
      if (std::holds_alternative<std::int64_t>(v)) {
        sqlite3_bind_int64(stmt.get(), k + 1, std::get<std::int64_t>(v));
      } else if (std::holds_alternative<double>(v)) {
        sqlite3_bind_double(stmt.get(), k + 1, std::get<double>(v));
      } else if (std::holds_alternative<std::string>(v)) {
        const auto& str = std::get<std::string>(v);
        sqlite3_bind_text(stmt.get(), k + 1, str.data(), static_cast<int>(str.size()), SQLITE_TRANSIENT);
      } else if (std::holds_alternative<std::vector<std::uint8_t>>(v)) {
        const auto& b = std::get<std::vector<std::uint8_t>>(v);
        sqlite3_bind_blob(stmt.get(), k + 1, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt.get(), k + 1);
      }
    }
    const int ncol = sqlite3_column_count(stmt.get());
    bool header_sent = false;
    std::vector<SqlValue> row(static_cast<std::size_t>(ncol));
    for (;;) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw Error(ErrorKind::Usage, "", std::string("SQL error: ") + sqlite3_errmsg(h));
      if (!header_sent) {
        std::vector<std::string> names;
        for (int c = 0; c < ncol; ++c) names.emplace_back(sqlite3_column_name(stmt.get(), c));
        on_header(names);
        header_sent = true;
      }
      for (int c = 0; c < ncol; ++c) {
        auto& v = row[static_cast<std::size_t>(c)];
        switch (sqlite3_column_type(stmt.get(), c)) {
          case SQLITE_INTEGER: v = static_cast<std::int64_t>(sqlite3_column_int64(stmt.get(), c)); break;
          case SQLITE_FLOAT: v = sqlite3_column_double(stmt.get(), c); break;
          case SQLITE_TEXT:
            v = std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c)),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), c)));
            break;
          case SQLITE_BLOB: {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt.get(), c));
            v = std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(stmt.get(), c));
            break;
          }
          default: v = std::monostate{};
        }
      }
      on_row(row);
    }
    if (!header_sent && ncol > 0 && tail >= end) {
      std::vector<std::string> names;
      for (int c = 0; c < ncol; ++c) names.emplace_back(sqlite3_column_name(stmt.get(), c));
      on_header(names);
    }
  }
}

// ----------------------------------------------------------------------------------------------
// Comparisons

std::int64_t Store::create_comparison(std::int64_t golden_run, std::int64_t my_run, const std::string& options_json,
                                      const std::vector<std::pair<std::string, std::string>>& matchers,
                                      const std::vector<SqlValue>& extra) {
  try {
    SQLite::Transaction tx(*db_);
    std::string names = "[";
    for (std::size_t i = 0; i < matchers.size(); ++i) names += (i ? ",\"" : "\"") + matchers[i].first + "\"";
    names += "]";
    SQLite::Statement ins(*db_, "INSERT INTO comparisons (golden_run_id, my_run_id, matchers, options) VALUES (?,?,?,?)");
    ins.bind(1, golden_run);
    ins.bind(2, my_run);
    ins.bind(3, names);
    ins.bind(4, options_json);
    ins.exec();
    const std::int64_t id = db_->getLastInsertRowid();
    std::vector<SqlValue> params{id, golden_run, my_run};
    params.insert(params.end(), extra.begin(), extra.end());
    for (const auto& m : matchers) execute(m.second, params, [](const auto&) {}, [](const auto&) {});
    // Number pairs in my-side execution order: logical token, the op's place in the token's
    // execution, rank, then inputs before outputs by index.
    SQLite::Statement seq(*db_, R"sql(
      UPDATE pairs SET seq = x.rn FROM (
        SELECT p.id AS id,
               ROW_NUMBER() OVER (ORDER BY n.token IS NULL, n.token, n.exec_order, rr.rank_index,
                                           CASE m.io WHEN 'in' THEN 0 WHEN 'out' THEN 1 ELSE 2 END,
                                           m.io_index, m.io_subindex, m.id, g.id) - 1 AS rn
        FROM pairs p
        JOIN tensors m ON m.id = p.my_tensor_id
        JOIN tensors g ON g.id = p.golden_tensor_id
        LEFT JOIN op_nodes n ON n.id = m.op_node_id
        LEFT JOIN run_ranks rr ON rr.run_id = m.run_id AND rr.rank_key = n.rank_key
        WHERE p.comparison_id = ?1) AS x
      WHERE pairs.id = x.id)sql");
    seq.bind(1, id);
    seq.exec();
    tx.commit();
    return id;
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("comparison failed: ") + e.what());
  }
}

std::vector<PairTask> Store::pair_tasks(std::int64_t comparison_id, std::int64_t after_seq, std::size_t limit) const {
  SQLite::Statement q(*db_, R"sql(
    SELECT p.id, p.seq, g.id, g.blob_key, g.dtype, coalesce(g.numel, 0), gr.name || ':' || coalesce(gf.rel_path, ''),
           m.id, m.blob_key, m.dtype, coalesce(m.numel, 0), mr.name || ':' || coalesce(mf.rel_path, ''), mn.token
    FROM pairs p
    JOIN tensors g ON g.id = p.golden_tensor_id JOIN runs gr ON gr.id = g.run_id LEFT JOIN files gf ON gf.id = g.file_id
    JOIN tensors m ON m.id = p.my_tensor_id JOIN runs mr ON mr.id = m.run_id LEFT JOIN files mf ON mf.id = m.file_id
    LEFT JOIN op_nodes mn ON mn.id = m.op_node_id
    WHERE p.comparison_id = ? AND p.seq > ? ORDER BY p.seq LIMIT ?)sql");
  q.bind(1, comparison_id);
  q.bind(2, after_seq);
  q.bind(3, static_cast<std::int64_t>(limit));
  std::vector<PairTask> out;
  const auto side = [&](int c, PairTask::Side& s) {
    s.tensor_id = q.getColumn(c).getInt64();
    const SQLite::Column key = q.getColumn(c + 1);
    if (!key.isNull()) {
      s.blob_key = BlobKey::from_bytes({static_cast<const std::uint8_t*>(key.getBlob()), static_cast<std::size_t>(key.getBytes())});
    }
    if (!q.getColumn(c + 2).isNull()) s.dtype = dtype_from_name(q.getColumn(c + 2).getString());
    s.numel = q.getColumn(c + 3).getInt64();
    s.describe = "tensor " + std::to_string(s.tensor_id) + " (" + q.getColumn(c + 4).getString() + ")";
  };
  while (q.executeStep()) {
    PairTask t;
    t.pair_id = q.getColumn(0).getInt64();
    t.seq = q.getColumn(1).getInt64();
    side(2, t.golden);
    side(7, t.my);
    t.my_token = opt_int(q.getColumn(12));
    out.push_back(std::move(t));
  }
  return out;
}

void Store::finish_comparison(std::int64_t comparison_id, const std::vector<PairResultRow>& rows) {
  stage_results(rows);
  finish_comparison(comparison_id);
}

void Store::stage_results(const std::vector<PairResultRow>& rows) {
  try {
    db_->exec(kResultStageDdl);
    SQLite::Transaction tx(*db_);  // TEMP only: takes no lock on the main database file
    SQLite::Statement ins(*db_, "INSERT OR REPLACE INTO temp.result_stage VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    for (const auto& r : rows) {
      ins.reset();
      int i = 1;
      ins.bind(i++, r.pair_id);
      for (const auto* v : {&r.cosine_similarity, &r.max_relative_error, &r.mean_relative_error, &r.max_absolute_error,
                            &r.mean_absolute_error, &r.kl_divergence, &r.relative_euclidean_distance, &r.euc_dist,
                            &r.msprobe_cosine, &r.one_thousandth_err_ratio, &r.five_thousandths_err_ratio}) {
        bind_opt(ins, i++, *v);
      }
      bind_opt(ins, i++, r.accuracy_reached);
      ins.bind(i++, r.cmp_fail_reason);
      ins.exec();
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("staging results failed: ") + e.what());
  }
}

void Store::finish_comparison(std::int64_t comparison_id) {
  try {
    db_->exec(kResultStageDdl);
    SQLite::Transaction tx(*db_);
    db_->exec("INSERT OR REPLACE INTO results SELECT * FROM temp.result_stage");
    SQLite::Statement fin(*db_, R"sql(
      UPDATE comparisons SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        pair_count = (SELECT count(*) FROM pairs WHERE comparison_id = ?1),
        failed_count = (SELECT count(*) FROM temp.result_stage WHERE cmp_fail_reason <> '')
      WHERE id = ?1)sql");
    fin.bind(1, comparison_id);
    fin.exec();
    db_->exec("DELETE FROM temp.result_stage");
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("writing results failed: ") + e.what());
  }
}

void Store::write_opcheck_results(const std::vector<OpcheckResultRow>& rows) {
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement drop(*db_, "DELETE FROM opcheck_results WHERE op_node_id = ?");
    SQLite::Statement ins(*db_, R"sql(
      INSERT INTO opcheck_results (run_id, op_node_id, op_id, op_name, op_param, tensor_path, out_tensor_id, status,
        precision_standard, rel_precision_rate, max_rel_error, abs_precision_rate, max_abs_error, cosine_similarity,
        kl_divergence, fail_reason, precision_mode)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?))sql");
    std::optional<std::int64_t> cleared;  // rows of one op arrive together
    for (const auto& r : rows) {
      if (cleared != r.op_node_id) {
        drop.reset();
        drop.bind(1, r.op_node_id);
        drop.exec();
        cleared = r.op_node_id;
      }
      ins.reset();
      int i = 1;
      ins.bind(i++, r.run_id);
      ins.bind(i++, r.op_node_id);
      ins.bind(i++, r.op_id);
      ins.bind(i++, r.op_name);
      ins.bind(i++, r.op_param);
      bind_opt(ins, i++, r.tensor_path);
      bind_opt(ins, i++, r.out_tensor_id);
      ins.bind(i++, r.status);
      bind_opt(ins, i++, r.precision_standard);
      for (const auto* v : {&r.rel_precision_rate, &r.max_rel_error, &r.abs_precision_rate, &r.max_abs_error,
                            &r.cosine_similarity, &r.kl_divergence}) {
        bind_opt(ins, i++, *v);
      }
      ins.bind(i++, r.fail_reason);
      ins.bind(i++, r.precision_mode);
      ins.exec();
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("writing opcheck results failed: ") + e.what());
  }
}

void Store::write_errcheck_results(std::int64_t run_id, const std::string& source,
                                   const std::vector<ErrcheckResultRow>& rows) {
  try {
    SQLite::Transaction tx(*db_);
    SQLite::Statement drop(*db_, "DELETE FROM errcheck_results WHERE run_id = ? AND source = ?");
    drop.bind(1, run_id);
    drop.bind(2, source);
    drop.exec();
    SQLite::Statement ins(*db_, R"sql(
      INSERT INTO errcheck_results (run_id, source, tensor_id, op_node_id, op_name, nan_count, inf_count,
        saturated_count, first_overflow) VALUES (?,?,?,?,?,?,?,?,?))sql");
    for (const auto& r : rows) {
      ins.reset();
      ins.bind(1, run_id);
      ins.bind(2, source);
      bind_opt(ins, 3, r.tensor_id);
      bind_opt(ins, 4, r.op_node_id);
      bind_opt(ins, 5, r.op_name);
      ins.bind(6, r.nan_count);
      ins.bind(7, r.inf_count);
      ins.bind(8, r.saturated_count);
      ins.bind(9, r.first_overflow ? 1 : 0);
      ins.exec();
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("writing errcheck results failed: ") + e.what());
  }
}

namespace {
SqlValue from_sqlite(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return static_cast<std::int64_t>(sqlite3_value_int64(v));
    case SQLITE_FLOAT: return sqlite3_value_double(v);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)), static_cast<std::size_t>(sqlite3_value_bytes(v)));
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
      return std::vector<std::uint8_t>(p, p + sqlite3_value_bytes(v));
    }
    default: return std::monostate{};
  }
}

void call_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* fn = static_cast<Store::SqlFunction*>(sqlite3_user_data(ctx));
  std::vector<SqlValue> args;
  for (int i = 0; i < argc; ++i) args.push_back(from_sqlite(argv[i]));
  try {
    const SqlValue r = (*fn)(args);
    if (std::holds_alternative<std::int64_t>(r)) {
      sqlite3_result_int64(ctx, std::get<std::int64_t>(r));
    } else if (std::holds_alternative<double>(r)) {
      sqlite3_result_double(ctx, std::get<double>(r));
    } else if (std::holds_alternative<std::string>(r)) {
      const auto& s = std::get<std::string>(r);
      sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_result_null(ctx);
    }
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}
}  // namespace

void Store::add_function(const std::string& name, int nargs, SqlFunction fn) {
  functions_.push_back(std::make_unique<SqlFunction>(std::move(fn)));
  if (sqlite3_create_function_v2(db_->getHandle(), name.c_str(), nargs, SQLITE_UTF8, functions_.back().get(),
                                 &call_function, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw StoreError(path_, "cannot register SQL function " + name);
  }
}

// ----------------------------------------------------------------------------------------------
// IngestTransaction

struct IngestTransaction::Statements {
  explicit Statements(SQLite::Database& db)
      : file(db, "INSERT INTO files (run_id, rel_path, size, mtime_ns, kind, status, content) VALUES (?,?,?,?,?,?,?)"),
        blob(db, "INSERT OR IGNORE INTO blobs (key, codec, elem_size, raw_size, stored_size, chunk_count) "
                 "VALUES (?,?,?,?,?,?)"),
        chunk(db, "INSERT INTO blob_chunks (key, seq, data) VALUES (?,?,?)"),
        tensor(db,
               "INSERT INTO tensors (run_id, file_id, source_kind, rank_key, device_id, pid, token, op_path, "
               "op_names, op_type, phase, io, io_index, io_subindex, io_name, dtype, format, shape, numel, "
               "nbytes, blob_key, md5, min, max, mean, std, l2norm, nan_count, inf_count, zero_count, "
               "stats_source, alias_of, flags, op_node_id) VALUES "
               "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        op_node(db,
                "INSERT INTO op_nodes (run_id, kind, rank_key, folder, id_path, names, name, type, depth, "
                "sibling_pos, param) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (run_id, rank_key, folder, id_path) "
                "DO UPDATE SET param = coalesce(excluded.param, op_nodes.param) RETURNING id"),
        node_groups(db, "SELECT DISTINCT rank_key, folder FROM op_nodes WHERE run_id = ? AND kind = ? ORDER BY 1, 2"),
        nodes_of(db, "SELECT id, id_path, names, type FROM op_nodes WHERE run_id = ? AND kind = ? AND rank_key = ? "
                     "AND folder = ? ORDER BY id"),
        link_node(db, "UPDATE op_nodes SET parent_id = ?, order_key = ?, depth = ?, type = coalesce(?, type), "
                      "sibling_pos = coalesce(?, sibling_pos) WHERE id = ?"),
        graph_op(db, "INSERT INTO graph_ops (run_id, pid, graph, graph_index, id_path, op_name, op_type, param, "
                     "in_tensors, out_tensors) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id"),
        edge(db, "INSERT INTO op_edges (run_id, src_op, dst_op, tensor_name) VALUES (?,?,?,?)"),
        rank(db, "INSERT INTO run_ranks (run_id, rank_key, rank_index, device_kind, device_id, pid) VALUES (?,?,?,?,?,?)"),
        error(db, "INSERT INTO ingest_errors (run_id, rel_path, reason) VALUES (?,?,?)"),
        label(db, "INSERT INTO labels (run_id, file_id, data_id, token_id, side, golden_path, my_path) VALUES (?,?,?,?,?,?,?)") {}
  SQLite::Statement file;
  SQLite::Statement blob;
  SQLite::Statement chunk;
  SQLite::Statement tensor;
  SQLite::Statement op_node;
  SQLite::Statement node_groups;
  SQLite::Statement nodes_of;
  SQLite::Statement link_node;
  SQLite::Statement graph_op;
  SQLite::Statement edge;
  SQLite::Statement rank;
  SQLite::Statement error;
  SQLite::Statement label;
};

IngestTransaction::IngestTransaction(Store& store, const RunSpec& spec, bool replace) : store_(store) {
  auto& db = store_.db();
  try {
    // One ingest is one transaction; a larger page cache keeps spills to the journal rare.
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA cache_size = -8192");
    db.exec("BEGIN IMMEDIATE");
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("cannot start the ingest transaction: ") + e.what());
  }
  try {
    if (replace) {
      SQLite::Statement del(db, "DELETE FROM runs WHERE name = ?");
      del.bind(1, spec.name);
      del.exec();
      // Blobs no other run references any more.
      db.exec("DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM tensors t WHERE t.blob_key = blobs.key)");
    }
    SQLite::Statement ins(db, "INSERT INTO runs (name, flavour, source_root, tool_version, options) VALUES (?,?,?,?,?)");
    ins.bind(1, spec.name);
    ins.bind(2, spec.flavour);
    ins.bind(3, spec.source_root);
    ins.bind(4, kToolVersion);
    ins.bind(5, spec.options);
    ins.exec();
    run_id_ = db.getLastInsertRowid();
    st_ = std::make_unique<Statements>(db);
  } catch (const SQLite::Exception& e) {
    st_.reset();
    db.exec("ROLLBACK");
    throw StoreError(store_.path(), std::string("cannot create run '") + spec.name + "': " + e.what());
  }
}

IngestTransaction::~IngestTransaction() {
  st_.reset();  // finalize statements before rolling back
  if (!done_) {
    try {
      store_.db().exec("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
    }
  }
}

std::int64_t IngestTransaction::add_file(const FileRow& f) {
  auto& s = st_->file;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, f.rel_path);
  s.bind(3, f.size);
  bind_opt(s, 4, f.mtime_ns);
  s.bind(5, f.kind);
  s.bind(6, f.status);
  bind_opt(s, 7, f.content);
  s.exec();
  return store_.db().getLastInsertRowid();
}

bool IngestTransaction::put_blob(const EncodedBlob& b) {
  auto& s = st_->blob;
  s.reset();
  s.bind(1, b.key.bytes.data(), static_cast<int>(b.key.bytes.size()));
  s.bind(2, b.codec);
  s.bind(3, static_cast<std::int64_t>(b.elem_size));
  s.bind(4, static_cast<std::int64_t>(b.raw_size));
  s.bind(5, static_cast<std::int64_t>(b.stored_size()));
  s.bind(6, static_cast<std::int64_t>(b.chunks.size()));
  if (s.exec() == 0) return false;  // identical bytes already stored
  auto& c = st_->chunk;
  for (std::size_t i = 0; i < b.chunks.size(); ++i) {
    c.reset();
    c.bind(1, b.key.bytes.data(), static_cast<int>(b.key.bytes.size()));
    c.bind(2, static_cast<std::int64_t>(i));
    c.bindNoCopy(3, b.chunks[i].data(), static_cast<int>(b.chunks[i].size()));
    c.exec();
  }
  return true;
}

std::int64_t IngestTransaction::add_tensor(const TensorRow& t) {
  auto& s = st_->tensor;
  s.reset();
  int i = 1;
  s.bind(i++, run_id_);
  bind_opt(s, i++, t.file_id);
  s.bind(i++, t.source_kind);
  bind_opt(s, i++, t.rank_key);
  bind_opt(s, i++, t.device_id);
  bind_opt(s, i++, t.pid);
  bind_opt(s, i++, t.token);
  bind_opt(s, i++, t.op_path);
  bind_opt(s, i++, t.op_names);
  bind_opt(s, i++, t.op_type);
  bind_opt(s, i++, t.phase);
  bind_opt(s, i++, t.io);
  bind_opt(s, i++, t.io_index);
  bind_opt(s, i++, t.io_subindex);
  bind_opt(s, i++, t.io_name);
  if (t.dtype) {
    s.bind(i++, std::string(dtype_name(*t.dtype)));
  } else {
    s.bind(i++);
  }
  bind_opt(s, i++, t.format);
  if (t.shape) {
    s.bind(i++, shape_to_json(*t.shape));
  } else {
    s.bind(i++);
  }
  bind_opt(s, i++, t.numel);
  bind_opt(s, i++, t.nbytes);
  if (t.blob_key) {
    s.bind(i++, t.blob_key->bytes.data(), static_cast<int>(t.blob_key->bytes.size()));
  } else {
    s.bind(i++);
  }
  bind_opt(s, i++, t.md5);
  bind_opt(s, i++, t.stats.min);
  bind_opt(s, i++, t.stats.max);
  bind_opt(s, i++, t.stats.mean);
  bind_opt(s, i++, t.stats.std);
  bind_opt(s, i++, t.stats.l2norm);
  if (t.has_stats && t.stats_source == std::optional<std::string>("computed")) {
    s.bind(i++, static_cast<std::int64_t>(t.stats.nan_count));
    s.bind(i++, static_cast<std::int64_t>(t.stats.inf_count));
    s.bind(i++, static_cast<std::int64_t>(t.stats.zero_count));
  } else {
    s.bind(i++);
    s.bind(i++);
    s.bind(i++);
  }
  bind_opt(s, i++, t.stats_source);
  bind_opt(s, i++, t.alias_of);
  bind_opt(s, i++, t.flags);
  bind_opt(s, i++, t.op_node_id);
  s.exec();
  return store_.db().getLastInsertRowid();
}

std::int64_t IngestTransaction::add_op_node(const OpNodeRow& n) {
  auto& s = st_->op_node;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, n.kind);
  s.bind(3, n.rank_key);
  s.bind(4, n.folder);
  s.bind(5, n.id_path);
  bind_opt(s, 6, n.names);
  bind_opt(s, 7, n.name);
  bind_opt(s, 8, n.type);
  s.bind(9, n.depth);
  bind_opt(s, 10, n.sibling_pos);
  bind_opt(s, 11, n.param);
  if (!s.executeStep()) throw StoreError(store_.path(), "op node insert returned no id");
  const std::int64_t id = s.getColumn(0).getInt64();
  s.reset();
  return id;
}

std::vector<std::pair<std::string, std::string>> IngestTransaction::op_node_groups(const std::string& kind) {
  auto& s = st_->node_groups;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, kind);
  std::vector<std::pair<std::string, std::string>> out;
  while (s.executeStep()) out.emplace_back(s.getColumn(0).getString(), s.getColumn(1).getString());
  s.reset();
  return out;
}

std::vector<OpNodeRef> IngestTransaction::op_nodes_of(const std::string& kind, const std::string& rank_key,
                                                      const std::string& folder) {
  auto& s = st_->nodes_of;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, kind);
  s.bind(3, rank_key);
  s.bind(4, folder);
  std::vector<OpNodeRef> out;
  while (s.executeStep()) {
    out.push_back(OpNodeRef{s.getColumn(0).getInt64(), s.getColumn(1).getString(), opt_text(s.getColumn(2)),
                            opt_text(s.getColumn(3))});
  }
  s.reset();
  return out;
}

void IngestTransaction::link_op_node(std::int64_t id, std::optional<std::int64_t> parent_id, const std::string& order_key,
                                     std::int64_t depth, const std::optional<std::string>& type,
                                     std::optional<std::int64_t> sibling_pos) {
  auto& s = st_->link_node;
  s.reset();
  bind_opt(s, 1, parent_id);
  s.bind(2, order_key);
  s.bind(3, depth);
  bind_opt(s, 4, type);
  bind_opt(s, 5, sibling_pos);
  s.bind(6, id);
  s.exec();
}

std::int64_t IngestTransaction::add_graph_op(const GraphOpRow& g) {
  auto& s = st_->graph_op;
  s.reset();
  s.bind(1, run_id_);
  bind_opt(s, 2, g.pid);
  s.bind(3, g.graph);
  s.bind(4, g.graph_index);
  s.bind(5, g.id_path);
  s.bind(6, g.op_name);
  bind_opt(s, 7, g.op_type);
  bind_opt(s, 8, g.param);
  s.bind(9, g.in_tensors);
  s.bind(10, g.out_tensors);
  if (!s.executeStep()) throw StoreError(store_.path(), "graph op insert returned no id");
  const std::int64_t id = s.getColumn(0).getInt64();
  s.reset();
  return id;
}

void IngestTransaction::add_op_edge(std::int64_t src_op, std::int64_t dst_op, const std::string& tensor_name) {
  auto& s = st_->edge;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, src_op);
  s.bind(3, dst_op);
  s.bind(4, tensor_name);
  s.exec();
}

void IngestTransaction::add_rank(const RankRow& r) {
  auto& s = st_->rank;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, r.rank_key);
  s.bind(3, r.rank_index);
  bind_opt(s, 4, r.device_kind);
  bind_opt(s, 5, r.device_id);
  bind_opt(s, 6, r.pid);
  s.exec();
}

void IngestTransaction::run_sql(const std::string& sql, const std::vector<SqlValue>& params,
                                const std::function<void(const std::vector<SqlValue>&)>& on_row) {
  store_.execute(sql, params, [](const std::vector<std::string>&) {},
                 [&](const std::vector<SqlValue>& row) {
                   if (on_row) on_row(row);
                 });
}

void IngestTransaction::add_error(const std::string& rel_path, const std::string& reason) {
  auto& s = st_->error;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, rel_path);
  s.bind(3, reason);
  s.exec();
}

void IngestTransaction::add_label(std::int64_t file_id, const LabelRow& l) {
  auto& s = st_->label;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, file_id);
  s.bind(3, l.data_id);
  bind_opt(s, 4, l.token_id);
  bind_opt(s, 5, l.side);
  bind_opt(s, 6, l.golden_path);
  bind_opt(s, 7, l.my_path);
  s.exec();
}

std::vector<std::pair<std::string, std::string>> IngestTransaction::resolve_aliases() {
  auto& db = store_.db();
  // alias_of is '<op path>_<intensor|outtensor><k>.bin'; the target lives in the same rank and
  // token, under before/ for inputs and after/ for outputs (docs/formats.md). An alias row has no
  // stats_source until it is resolved (its target always has one), also in --stats-only runs.
  SQLite::Statement upd(db, R"sql(
    UPDATE tensors AS a SET
      blob_key = s.blob_key, dtype = s.dtype, format = s.format, shape = s.shape, numel = s.numel,
      nbytes = s.nbytes, min = s.min, max = s.max, mean = s.mean, std = s.std, l2norm = s.l2norm,
      nan_count = s.nan_count, inf_count = s.inf_count, zero_count = s.zero_count,
      stats_source = s.stats_source
    FROM tensors AS s
    WHERE a.run_id = ?1 AND a.alias_of IS NOT NULL AND a.stats_source IS NULL
      AND s.run_id = a.run_id AND s.rank_key IS a.rank_key AND s.token IS a.token
      AND s.alias_of IS NULL
      AND a.alias_of = s.op_path || '_' || (CASE s.io WHEN 'in' THEN 'intensor' ELSE 'outtensor' END)
                       || s.io_index || '.bin'
      AND s.phase = (CASE s.io WHEN 'in' THEN 'before' ELSE 'after' END)
  )sql");
  upd.bind(1, run_id_);
  upd.exec();
  SQLite::Statement left(db,
                         "SELECT coalesce(f.rel_path, ''), t.alias_of FROM tensors t LEFT JOIN files f ON f.id = t.file_id "
                         "WHERE t.run_id = ? AND t.alias_of IS NOT NULL AND t.stats_source IS NULL ORDER BY t.id");
  left.bind(1, run_id_);
  std::vector<std::pair<std::string, std::string>> out;
  while (left.executeStep()) out.emplace_back(left.getColumn(0).getString(), left.getColumn(1).getString());
  return out;
}

void IngestTransaction::set_run_options(const std::string& options_json) {
  SQLite::Statement u(store_.db(), "UPDATE runs SET options = ? WHERE id = ?");
  u.bind(1, options_json);
  u.bind(2, run_id_);
  u.exec();
}

void IngestTransaction::commit() {
  st_.reset();
  try {
    store_.db().exec("COMMIT");
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("commit failed: ") + e.what());
  }
  done_ = true;
}

}  // namespace aitdb
