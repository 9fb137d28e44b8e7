#include "aitdb/schema/blob_codec.h"

#include <openssl/evp.h>
#include <xxhash.h>
#include <zstd.h>

#include <memory>
#include <stdexcept>

#include "aitdb/schema/errors.h"

namespace aitdb {
namespace {

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

void shuffle(const std::byte* in, std::size_t n, std::size_t es, std::byte* out) {
  const std::size_t count = n / es;
  for (std::size_t b = 0; b < es; ++b) {
    std::byte* plane = out + b * count;
    for (std::size_t i = 0; i < count; ++i) plane[i] = in[i * es + b];
  }
}

void unshuffle(const std::byte* in, std::size_t n, std::size_t es, std::byte* out) {
  const std::size_t count = n / es;
  for (std::size_t b = 0; b < es; ++b) {
    const std::byte* plane = in + b * count;
    for (std::size_t i = 0; i < count; ++i) out[i * es + b] = plane[i];
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

BlobKey content_key(std::span<const std::byte> raw) {
  const XXH128_hash_t h = XXH3_128bits(raw.data(), raw.size());
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, h);
  BlobKey k;
  std::copy(std::begin(c.digest), std::end(c.digest), k.bytes.begin());
  return k;
}

std::string md5_hex(std::span<const std::byte> raw) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), raw.data(), raw.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) {
    throw std::runtime_error("OpenSSL MD5 failed");
  }
  return to_hex(digest, len);
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
  std::vector<std::byte> scratch;
  for (std::size_t off = 0; off < raw.size(); off += chunk_raw) {
    const std::size_t n = std::min(chunk_raw, raw.size() - off);
    const std::byte* src = raw.data() + off;
    if (shuffled) {
      scratch.resize(n);
      shuffle(src, n, elem_size, scratch.data());
      src = scratch.data();
    }
    std::vector<std::byte> out(ZSTD_compressBound(n));
    const std::size_t r = ZSTD_compressCCtx(thread_cctx(), out.data(), out.size(), src, n, level);
    if (ZSTD_isError(r) != 0U) throw std::runtime_error(std::string("zstd: ") + ZSTD_getErrorName(r));
    out.resize(r);
    out.shrink_to_fit();
    b.chunks.push_back(std::move(out));
  }
  return b;
}

void decode_chunk(const std::string& codec, std::uint32_t elem_size, std::span<const std::byte> stored,
                  std::vector<std::byte>& out) {
  const bool shuffled = codec == "shuffle+zstd";
  if (!shuffled && codec != "zstd") throw IntegrityError("blob", "unknown codec '" + codec + "'");
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN || size > kMaxChunkRaw) {
    throw IntegrityError("blob", "stored chunk is not a valid zstd frame");
  }
  const std::size_t base = out.size();
  std::vector<std::byte> tmp;
  std::byte* dst = nullptr;
  if (shuffled) {
    tmp.resize(size);
    dst = tmp.data();
  } else {
    out.resize(base + size);
    dst = out.data() + base;
  }
  const std::size_t r = ZSTD_decompressDCtx(thread_dctx(), dst, size, stored.data(), stored.size());
  if (ZSTD_isError(r) != 0U || r != size) throw IntegrityError("blob", "zstd chunk failed to decode");
  if (shuffled) {
    if (elem_size == 0 || size % elem_size != 0) throw IntegrityError("blob", "chunk size not a multiple of element size");
    out.resize(base + size);
    unshuffle(tmp.data(), size, elem_size, out.data() + base);
  }
}

}  // namespace aitdb
