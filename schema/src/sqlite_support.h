#pragma once
// Helpers shared by the schema/ sources that talk to SQLite (never installed, never included
// outside schema/src).
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>

#include "aitdb/schema/store.h"

namespace aitdb::detail {

inline std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
inline std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}
inline std::optional<double> opt_real(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getDouble();
}

template <typename T>
void bind_opt(SQLite::Statement& s, int idx, const std::optional<T>& v) {
  if (v) {
    s.bind(idx, *v);
  } else {
    s.bind(idx);
  }
}

inline void bind_key(SQLite::Statement& s, int idx, const BlobKey& key) {
  s.bind(idx, key.bytes.data(), static_cast<int>(key.bytes.size()));
}

inline BlobKey key_of(const SQLite::Column& c) {
  return BlobKey::from_bytes({static_cast<const std::uint8_t*>(c.getBlob()), static_cast<std::size_t>(c.getBytes())});
}

}  // namespace aitdb::detail

namespace aitdb {

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

}  // namespace aitdb
