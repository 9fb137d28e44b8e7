#pragma once
// Streaming reads of stored blobs (schema/src/blob_stream.cpp).
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "aitdb/schema/blob_codec.h"
#include "aitdb/schema/store.h"

namespace aitdb {

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
  ByteBuffer planes_;                          // current chunk, decoded, still shuffled
  std::size_t chunk_bytes_ = 0;
  std::size_t chunk_pos_ = 0;  // bytes of the current chunk already handed out
  ByteBuffer block_;
  std::unique_ptr<State> state_;  // incremental hash
};

}  // namespace aitdb
