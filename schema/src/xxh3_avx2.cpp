// XXH3-128 compiled for AVX2. Debian's libxxhash is built for the x86-64 baseline (SSE2), which
// halves XXH3's throughput on the machines aitdb runs on; the algorithm is the same, so keys
// hashed either way are identical. This file is compiled with -mavx2 and must only be called
// after blob_codec.cpp has checked the CPU. It includes C headers only: an inline C++ function
// instantiated here with AVX2 code could be chosen by the linker for callers on any CPU.
#define XXH_INLINE_ALL
#include "xxh3_avx2.h"

#include <xxhash.h>

namespace aitdb::detail {

void xxh3_avx2_reset(void* s) {
  XXH3_128bits_reset(static_cast<XXH3_state_t*>(s));
}

void xxh3_avx2_update(void* s, const void* data, size_t len) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(s), data, len);
}

XXH128_hash_t xxh3_avx2_digest(const void* s) {
  return XXH3_128bits_digest(static_cast<const XXH3_state_t*>(s));
}

XXH128_hash_t xxh3_avx2_hash(const void* data, size_t len) {
  return XXH3_128bits(data, len);
}

}  // namespace aitdb::detail
