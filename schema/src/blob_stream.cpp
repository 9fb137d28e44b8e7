// Blob reads: BlobStream decodes one stored blob chunk by chunk through pooled buffers.
#include "aitdb/schema/blob_stream.h"

#include <algorithm>
#include <array>

#include "aitdb/schema/errors.h"
#include "sqlite_support.h"

namespace aitdb {

std::vector<std::byte> Store::read_blob(const BlobKey& key, const std::string& what) const {
  ByteBuffer out;
  read_blob_into(key, what, out);
  return {out.begin(), out.end()};
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
  detail::bind_key(meta, 1, key);
  if (!meta.executeStep()) throw IntegrityError(what_, "blob " + key.hex() + " is missing from the store");
  codec_ = meta.getColumn(0).getString();
  elem_size_ = static_cast<std::uint32_t>(meta.getColumn(1).getInt64());
  raw_size_ = static_cast<std::uint64_t>(meta.getColumn(2).getInt64());
  chunk_count_ = meta.getColumn(3).getInt64();
  meta.reset();
  if (elem_size_ == 0) throw IntegrityError(what_, "blob " + key.hex() + " has element size 0");
  detail::bind_key(reader_->chunks, 1, key);
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

}  // namespace aitdb
