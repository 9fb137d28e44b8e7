#include "aitdb/schema/blob_codec.h"

#include <openssl/evp.h>
#include <xxhash.h>
#include <zstd.h>

#include <memory>
#include <mutex>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <new>

#include "aitdb/schema/errors.h"
#include "clone_for_avx2.h"
#include "xxh3_avx2.h"

namespace aitdb {
namespace {

// One CPU check for this file's AVX2 paths (unshuffle and XXH3); false off x86-64, where
// xxh3_avx2.cpp still compiles (for the baseline) and the unshuffle uses the portable loops.
#if defined(__x86_64__)
const bool kHasAvx2 = __builtin_cpu_supports("avx2");
#else
constexpr bool kHasAvx2 = false;
#endif

struct CCtxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};

ZSTD_CCtx* thread_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxDeleter> ctx(ZSTD_createCCtx());
  return ctx.get();
}
ZSTD_DCtx* thread_dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxDeleter> ctx(ZSTD_createDCtx());
  return ctx.get();
}

// Byte-plane transpose. The element size is a template constant so the inner loops compile to
// fixed-stride gathers the vectoriser handles; blocking keeps both sides in L1.
template <std::size_t ES>
AITDB_CLONE_FOR_AVX2 void shuffle_fixed(const std::byte* in, std::size_t count,
                                                                      std::byte* out) {
  constexpr std::size_t kTile = 1024;
  for (std::size_t base = 0; base < count; base += kTile) {
    const std::size_t n = std::min(kTile, count - base);
    for (std::size_t b = 0; b < ES; ++b) {
      std::byte* plane = out + b * count + base;
      const std::byte* src = in + base * ES + b;
      for (std::size_t i = 0; i < n; ++i) plane[i] = src[i * ES];
    }
  }
}

// Unshuffle `len` elements whose planes start at `in` and lie `stride` bytes apart (the element
// count of the whole chunk), so a block of a chunk can be unshuffled on its own.
template <std::size_t ES>
AITDB_CLONE_FOR_AVX2 void unshuffle_fixed(const std::byte* in, std::size_t stride,
                                                                        std::size_t len, std::byte* out) {
  constexpr std::size_t kTile = 1024;
  for (std::size_t base = 0; base < len; base += kTile) {
    const std::size_t n = std::min(kTile, len - base);
    for (std::size_t b = 0; b < ES; ++b) {
      const std::byte* plane = in + b * stride + base;
      std::byte* dst = out + base * ES + b;
      for (std::size_t i = 0; i < n; ++i) dst[i * ES] = plane[i];
    }
  }
}

#if defined(__x86_64__)
// 2-byte elements (fp16, bf16) are the bulk of LLM dumps: SSE2 (baseline x86-64) splits 16
// elements per step into their low and high bytes.
void shuffle2_sse2(const std::byte* in, std::size_t count, std::byte* out) {
  const __m128i mask = _mm_set1_epi16(0x00FF);
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 2 * i + 16));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm_packus_epi16(_mm_and_si128(a, mask), _mm_and_si128(b, mask)));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + count + i),
                     _mm_packus_epi16(_mm_srli_epi16(a, 8), _mm_srli_epi16(b, 8)));
  }
  for (; i < count; ++i) {
    out[i] = in[2 * i];
    out[count + i] = in[2 * i + 1];
  }
}

void unshuffle2_sse2(const std::byte* in, std::size_t stride, std::size_t count, std::byte* out) {
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + stride + i));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i), _mm_unpacklo_epi8(lo, hi));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * i + 16), _mm_unpackhi_epi8(lo, hi));
  }
  for (; i < count; ++i) {
    out[2 * i] = in[i];
    out[2 * i + 1] = in[stride + i];
  }
}

// 4-byte elements (fp32, int32): interleave four planes 16 elements at a time, bytes to 16-bit
// pairs, then pairs to 32-bit words.
void unshuffle4_sse2(const std::byte* in, std::size_t stride, std::size_t count, std::byte* out) {
  const std::byte* p0 = in;
  const std::byte* p1 = in + stride;
  const std::byte* p2 = in + 2 * stride;
  const std::byte* p3 = in + 3 * stride;
  std::size_t i = 0;
  for (; i + 16 <= count; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p0 + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p1 + i));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p2 + i));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p3 + i));
    const __m128i ab_lo = _mm_unpacklo_epi8(a, b);
    const __m128i ab_hi = _mm_unpackhi_epi8(a, b);
    const __m128i cd_lo = _mm_unpacklo_epi8(c, d);
    const __m128i cd_hi = _mm_unpackhi_epi8(c, d);
    auto* o = reinterpret_cast<__m128i*>(out + 4 * i);
    _mm_storeu_si128(o, _mm_unpacklo_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(o + 1, _mm_unpackhi_epi16(ab_lo, cd_lo));
    _mm_storeu_si128(o + 2, _mm_unpacklo_epi16(ab_hi, cd_hi));
    _mm_storeu_si128(o + 3, _mm_unpackhi_epi16(ab_hi, cd_hi));
  }
  for (; i < count; ++i) {
    out[4 * i] = p0[i];
    out[4 * i + 1] = p1[i];
    out[4 * i + 2] = p2[i];
    out[4 * i + 3] = p3[i];
  }
}

// AVX2 variants of the two decoders above (the compare path's hottest loops after zstd). The
// 256-bit unpacks work within 128-bit lanes, so the interleaved halves are put back in order with
// permute2x128; the SSE2 versions finish the tail.
__attribute__((target("avx2"))) void unshuffle2_avx2(const std::byte* in, std::size_t stride, std::size_t count,
                                                     std::byte* out) {
  std::size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + stride + i));
    const __m256i a = _mm256_unpacklo_epi8(lo, hi);  // elements 0-7 | 16-23
    const __m256i b = _mm256_unpackhi_epi8(lo, hi);  // elements 8-15 | 24-31
    auto* o = reinterpret_cast<__m256i*>(out + 2 * i);
    _mm256_storeu_si256(o, _mm256_permute2x128_si256(a, b, 0x20));
    _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(a, b, 0x31));
  }
  unshuffle2_sse2(in + i, stride, count - i, out + 2 * i);
}

__attribute__((target("avx2"))) void unshuffle4_avx2(const std::byte* in, std::size_t stride, std::size_t count,
                                                     std::byte* out) {
  std::size_t i = 0;
  for (; i + 32 <= count; i += 32) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + stride + i));
    const __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 2 * stride + i));
    const __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 3 * stride + i));
    const __m256i ab_lo = _mm256_unpacklo_epi8(a, b);
    const __m256i ab_hi = _mm256_unpackhi_epi8(a, b);
    const __m256i cd_lo = _mm256_unpacklo_epi8(c, d);
    const __m256i cd_hi = _mm256_unpackhi_epi8(c, d);
    const __m256i w0 = _mm256_unpacklo_epi16(ab_lo, cd_lo);  // elements 0-3 | 16-19
    const __m256i w1 = _mm256_unpackhi_epi16(ab_lo, cd_lo);  // 4-7 | 20-23
    const __m256i w2 = _mm256_unpacklo_epi16(ab_hi, cd_hi);  // 8-11 | 24-27
    const __m256i w3 = _mm256_unpackhi_epi16(ab_hi, cd_hi);  // 12-15 | 28-31
    auto* o = reinterpret_cast<__m256i*>(out + 4 * i);
    _mm256_storeu_si256(o, _mm256_permute2x128_si256(w0, w1, 0x20));
    _mm256_storeu_si256(o + 1, _mm256_permute2x128_si256(w2, w3, 0x20));
    _mm256_storeu_si256(o + 2, _mm256_permute2x128_si256(w0, w1, 0x31));
    _mm256_storeu_si256(o + 3, _mm256_permute2x128_si256(w2, w3, 0x31));
  }
  unshuffle4_sse2(in + i, stride, count - i, out + 4 * i);
}
#endif

void shuffle(const std::byte* in, std::size_t n, std::size_t es, std::byte* out) {
  const std::size_t count = n / es;
  switch (es) {
#if defined(__x86_64__)
    case 2: return shuffle2_sse2(in, count, out);
#else
    case 2: return shuffle_fixed<2>(in, count, out);
#endif
    case 4: return shuffle_fixed<4>(in, count, out);
    case 8: return shuffle_fixed<8>(in, count, out);
    case 16: return shuffle_fixed<16>(in, count, out);
    default:
      for (std::size_t b = 0; b < es; ++b) {
        for (std::size_t i = 0; i < count; ++i) out[b * count + i] = in[i * es + b];
      }
  }
}

void unshuffle_range(const std::byte* in, std::size_t stride, std::size_t len, std::size_t es, std::byte* out) {
  switch (es) {
#if defined(__x86_64__)
    case 2: return kHasAvx2 ? unshuffle2_avx2(in, stride, len, out) : unshuffle2_sse2(in, stride, len, out);
    case 4: return kHasAvx2 ? unshuffle4_avx2(in, stride, len, out) : unshuffle4_sse2(in, stride, len, out);
#else
    case 2: return unshuffle_fixed<2>(in, stride, len, out);
    case 4: return unshuffle_fixed<4>(in, stride, len, out);
#endif
    case 8: return unshuffle_fixed<8>(in, stride, len, out);
    case 16: return unshuffle_fixed<16>(in, stride, len, out);
    default:
      for (std::size_t b = 0; b < es; ++b) {
        for (std::size_t i = 0; i < len; ++i) out[i * es + b] = in[b * stride + i];
      }
  }
}

constexpr const char* kHex = "0123456789abcdef";

std::string to_hex(const unsigned char* p, std::size_t n) {
  std::string s(2 * n, '0');
  for (std::size_t i = 0; i < n; ++i) {
    s[2 * i] = kHex[p[i] >> 4U];
    s[2 * i + 1] = kHex[p[i] & 0xFU];
  }
  return s;
}

}  // namespace

std::string BlobKey::hex() const { return to_hex(bytes.data(), bytes.size()); }

BlobKey BlobKey::from_bytes(std::span<const std::uint8_t> b) {
  if (b.size() != 16) throw IntegrityError("blob key", "stored key is not 16 bytes");
  BlobKey k;
  std::copy(b.begin(), b.end(), k.bytes.begin());
  return k;
}

namespace {
BlobKey key_of(XXH128_hash_t h) {
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  BlobKey k;
  std::copy(std::begin(c.digest), std::end(c.digest), k.bytes.begin());
  return k;
}
}  // namespace

BlobKey content_key(std::span<const std::byte> raw) {
  if (kHasAvx2) return key_of(detail::xxh3_avx2_hash(raw.data(), raw.size()));
  return key_of(XXH3_128bits(raw.data(), raw.size()));
}

struct ContentHasher::State {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> xxh{XXH3_createState(), &XXH3_freeState};
};

ContentHasher::ContentHasher() : state_(std::make_unique<State>()) {
  if (!state_->xxh) throw std::bad_alloc();
  if (kHasAvx2) {
    detail::xxh3_avx2_reset(state_->xxh.get());
  } else {
    XXH3_128bits_reset(state_->xxh.get());
  }
}

ContentHasher::~ContentHasher() = default;

void ContentHasher::update(std::span<const std::byte> bytes) {
  if (kHasAvx2) return detail::xxh3_avx2_update(state_->xxh.get(), bytes.data(), bytes.size());
  XXH3_128bits_update(state_->xxh.get(), bytes.data(), bytes.size());
}

BlobKey ContentHasher::key() const {
  if (kHasAvx2) return key_of(detail::xxh3_avx2_digest(state_->xxh.get()));
  return key_of(XXH3_128bits_digest(state_->xxh.get()));
}

std::string md5_hex(std::span<const std::byte> raw) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), raw.data(), raw.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    throw InternalError("md5", "OpenSSL MD5 failed");
  }
  return to_hex(digest, len);
}

namespace {
// Retention is bounded by count and bytes; beyond that, buffers are simply freed. In flight at
// once are about the ingest budget's worth plus one per worker, which this covers for tensors
// up to ~8 MiB; larger chunks come and go as before.
constexpr std::size_t kPooledChunks = 8;
constexpr std::size_t kPooledBytes = 64U << 20U;
std::mutex chunk_pool_mutex;
std::vector<ByteBuffer> chunk_pool;
std::size_t chunk_pool_bytes = 0;
}  // namespace

ChunkBuffer ChunkBuffer::with_capacity(std::size_t capacity) {
  ChunkBuffer c;
  {
    std::lock_guard lk(chunk_pool_mutex);
    // The smallest pooled buffer that fits, so a small chunk does not take a big buffer.
    auto best = chunk_pool.end();
    for (auto it = chunk_pool.begin(); it != chunk_pool.end(); ++it) {
      if (it->capacity() >= capacity && (best == chunk_pool.end() || it->capacity() < best->capacity())) best = it;
    }
    if (best == chunk_pool.end() && !chunk_pool.empty()) best = chunk_pool.begin();  // grows once, then fits
    if (best != chunk_pool.end()) {
      chunk_pool_bytes -= best->capacity();
      c.buf_ = std::move(*best);
      chunk_pool.erase(best);
    }
  }
  if (c.buf_.size() < capacity) c.buf_.resize(capacity);
  return c;
}

std::size_t ChunkBuffer::pooled_bytes() {
  std::lock_guard lk(chunk_pool_mutex);
  return chunk_pool_bytes;
}

void ChunkBuffer::release_pool() {
  std::vector<ByteBuffer> drop;
  std::lock_guard lk(chunk_pool_mutex);
  drop.swap(chunk_pool);
  chunk_pool_bytes = 0;
}

void ChunkBuffer::set_size(std::size_t n) {
  if (n > buf_.size()) throw InternalError("ChunkBuffer", "set_size beyond capacity");
  size_ = n;
}

ChunkBuffer::ChunkBuffer(ChunkBuffer&& other) noexcept : buf_(std::move(other.buf_)), size_(other.size_) {
  other.buf_ = ByteBuffer();
  other.size_ = 0;
}

ChunkBuffer& ChunkBuffer::operator=(ChunkBuffer&& other) noexcept {
  if (this != &other) {
    ChunkBuffer old(std::move(*this));  // returns this buffer's storage to the pool
    buf_ = std::move(other.buf_);
    size_ = other.size_;
    other.buf_ = ByteBuffer();
    other.size_ = 0;
  }
  return *this;
}

ChunkBuffer::~ChunkBuffer() {
  if (buf_.capacity() == 0) return;
  try {
    std::lock_guard lk(chunk_pool_mutex);
    if (chunk_pool.size() < kPooledChunks && chunk_pool_bytes + buf_.capacity() <= kPooledBytes) {
      chunk_pool_bytes += buf_.capacity();
      chunk_pool.push_back(std::move(buf_));
    }
  } catch (...) {  // NOLINT(bugprone-empty-catch): a full pool (or no memory for its slot) just frees
  }
}

std::uint64_t EncodedBlob::stored_size() const {
  std::uint64_t s = 0;
  for (const auto& c : chunks) s += c.size();
  return s;
}

EncodedBlob encode_blob(std::span<const std::byte> raw, std::size_t elem_size, int level) {
  EncodedBlob b;
  b.key = content_key(raw);
  b.raw_size = raw.size();
  // Shuffle only when the byte count is a whole number of elements; otherwise plain zstd.
  const bool shuffled = elem_size > 1 && raw.size() % elem_size == 0;
  b.elem_size = shuffled ? static_cast<std::uint32_t>(elem_size) : 1;
  b.codec = shuffled ? "shuffle+zstd" : "zstd";
  const std::size_t chunk_raw = kMaxChunkRaw - kMaxChunkRaw % (shuffled ? elem_size : 1);
  // Per-thread scratch reused across blobs: fresh multi-MiB buffers per tensor cost more in page
  // faults than the shuffle itself.
  thread_local std::vector<std::byte> scratch;
  for (std::size_t off = 0; off < raw.size(); off += chunk_raw) {
    const std::size_t n = std::min(chunk_raw, raw.size() - off);
    const std::byte* src = raw.data() + off;
    if (shuffled) {
      if (scratch.size() < n) scratch.resize(n);
      shuffle(src, n, elem_size, scratch.data());
      src = scratch.data();
    }
    ChunkBuffer chunk = ChunkBuffer::with_capacity(ZSTD_compressBound(n));
    ZSTD_CCtx* cctx = thread_cctx();
    ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
    // A shuffled plane of floats is a stream of i.i.d. symbols (sign/exponent bytes, noisy
    // mantissa bytes): short matches cost time and buy nothing, entropy coding does the work.
    // Asking for the longest minimum match zstd allows makes shuffled tensors 1.2-1.5x faster to
    // compress at level 3 and never larger in our measurements (docs/schema.md).
    if (shuffled && level < 10) ZSTD_CCtx_setParameter(cctx, ZSTD_c_minMatch, 7);
    const std::size_t r = ZSTD_compress2(cctx, chunk.data(), ZSTD_compressBound(n), src, n);
    if (ZSTD_isError(r) != 0U) throw InternalError("blob", std::string("zstd compression failed: ") + ZSTD_getErrorName(r));
    chunk.set_size(r);
    b.chunks.push_back(std::move(chunk));
  }
  return b;
}

std::size_t decode_chunk_planes(const std::string& codec, std::span<const std::byte> stored, ByteBuffer& out) {
  if (codec != "shuffle+zstd" && codec != "zstd") throw IntegrityError("blob", "unknown codec '" + codec + "'");
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxChunkRaw) {
    throw IntegrityError("blob", "stored chunk is not a valid zstd frame");
  }
  if (out.size() < size) out.resize(size);
  const std::size_t r = ZSTD_decompressDCtx(thread_dctx(), out.data(), size, stored.data(), stored.size());
  if (ZSTD_isError(r) != 0U || r != size) throw IntegrityError("blob", "zstd chunk failed to decode");
  return static_cast<std::size_t>(size);
}

void unshuffle_block(const std::byte* planes, std::size_t chunk_elems, std::size_t first, std::size_t count,
                     std::size_t elem_size, std::byte* out) {
  unshuffle_range(planes + first, chunk_elems, count, elem_size, out);
}


}  // namespace aitdb
