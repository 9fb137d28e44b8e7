#pragma once
// How tensor bytes are stored: content key = XXH3-128 of the raw bytes; codec = byte-plane
// shuffle by element size (exponent bytes of floats end up together, which zstd compresses far
// better) followed by zstd, in chunks so no database row exceeds kMaxChunkRaw + zstd overhead.
#include <array>
#include <memory>
#include <utility>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace aitdb {

// Allocator whose value-less construct() leaves bytes uninitialised, so resize() on a decode
// buffer does not zero memory that decoding overwrites next (a measurable cost per tensor).
template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  explicit DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};
using ByteBuffer = std::vector<std::byte, DefaultInitAllocator<std::byte>>;

inline constexpr std::size_t kMaxChunkRaw = 32U << 20U;  // 32 MiB raw per chunk (< 64 MiB stored)
// Level 1 (zstd's "fast" strategy): on shuffled float planes it is 1.1x (fp16) to 2x (bf16,
// fp32) faster than level 3 with the same or a smaller output, and decodes as fast
// (docs/schema.md); the planes hold i.i.d. symbols, so deeper match search finds nothing useful.
inline constexpr int kDefaultZstdLevel = 1;

struct BlobKey {
  std::array<std::uint8_t, 16> bytes{};
  [[nodiscard]] std::string hex() const;
  static BlobKey from_bytes(std::span<const std::uint8_t> b);  // must be 16 bytes
  friend bool operator==(const BlobKey&, const BlobKey&) = default;
};

BlobKey content_key(std::span<const std::byte> raw);

// content_key of bytes that arrive in pieces.
class ContentHasher {
 public:
  ContentHasher();
  ~ContentHasher();
  ContentHasher(const ContentHasher&) = delete;
  ContentHasher& operator=(const ContentHasher&) = delete;
  void update(std::span<const std::byte> bytes);
  [[nodiscard]] BlobKey key() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};
std::string md5_hex(std::span<const std::byte> raw);

// The stored bytes of one chunk. Its storage is taken from, and given back to, a small
// process-wide pool: chunks are compressed on ingest workers and freed by the writer thread once
// stored, and a fresh multi-MiB allocation per tensor fragmented the heap so that peak RSS crept
// up with the number of tensors ingested.
class ChunkBuffer {
 public:
  ChunkBuffer() = default;
  ~ChunkBuffer();
  ChunkBuffer(ChunkBuffer&& other) noexcept;
  ChunkBuffer& operator=(ChunkBuffer&& other) noexcept;
  ChunkBuffer(const ChunkBuffer&) = delete;
  ChunkBuffer& operator=(const ChunkBuffer&) = delete;
  // A pooled buffer with room for `capacity` bytes; fill it through data() and set the size.
  static ChunkBuffer with_capacity(std::size_t capacity);
  [[nodiscard]] std::byte* data() { return buf_.data(); }
  [[nodiscard]] const std::byte* data() const { return buf_.data(); }
  [[nodiscard]] std::size_t size() const { return size_; }
  void set_size(std::size_t n);  // n <= the capacity asked for
  operator std::span<const std::byte>() const { return {buf_.data(), size_}; }  // NOLINT: a byte view
  // The pool's retained bytes, and freeing them (a long-lived process done with ingesting).
  static std::size_t pooled_bytes();
  static void release_pool();

 private:
  ByteBuffer buf_;
  std::size_t size_ = 0;
};

struct EncodedBlob {
  BlobKey key;
  std::string codec;  // "zstd" or "shuffle+zstd"
  std::uint32_t elem_size = 1;
  std::uint64_t raw_size = 0;
  std::vector<ChunkBuffer> chunks;
  [[nodiscard]] std::uint64_t stored_size() const;
};

EncodedBlob encode_blob(std::span<const std::byte> raw, std::size_t elem_size, int level);

// Decodes one stored chunk into `out` without undoing the shuffle (planes stay separate); returns
// its byte count. With unshuffle_block(), a reader can restore one block at a time in cache.
std::size_t decode_chunk_planes(const std::string& codec, std::span<const std::byte> stored, ByteBuffer& out);
// Restores elements [first, first + count) of a decoded shuffled chunk of chunk_elems elements.
void unshuffle_block(const std::byte* planes, std::size_t chunk_elems, std::size_t first, std::size_t count,
                     std::size_t elem_size, std::byte* out);

}  // namespace aitdb
