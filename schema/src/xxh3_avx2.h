#pragma once
// Entry points of xxh3_avx2.cpp (see there). Callers go through ContentHasher / content_key.
// The state is passed untyped: with XXH_INLINE_ALL xxhash.h renames its struct tags, so the
// state type differs by name (not by layout) between that file and the library's users.
#include <xxhash.h>

#include <stddef.h>  // NOLINT(modernize-deprecated-headers): C only, see xxh3_avx2.cpp

namespace aitdb::detail {
void xxh3_avx2_reset(void* state);
void xxh3_avx2_update(void* state, const void* data, size_t len);
XXH128_hash_t xxh3_avx2_digest(const void* state);
XXH128_hash_t xxh3_avx2_hash(const void* data, size_t len);
}  // namespace aitdb::detail
