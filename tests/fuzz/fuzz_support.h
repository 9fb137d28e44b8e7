#pragma once
// What every fuzz target checks beyond "no sanitizer report": a reader either returns tensors
// whose bytes match their shape and dtype, or throws an aitdb::Error. Any other exception escapes
// the harness and libFuzzer reports it as a crash, so "errors one way" is fuzzed too.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/schema/errors.h"

namespace aitdb::fuzz {

inline std::span<const std::byte> as_bytes(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const std::byte*>(data), size};
}

[[noreturn]] inline void invariant_broken(const char* what) {
  std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
  std::abort();
}

inline void check_tensors(const std::vector<ingest::DecodedTensor>& tensors) {
  for (const auto& t : tensors) {
    if (!t.has_data) continue;
    if (!t.dtype) invariant_broken("a tensor with data has no dtype");
    const auto need = checked_nbytes(t.shape, *t.dtype);
    if (!need || *need != t.data.size()) invariant_broken("a tensor's bytes do not match its shape x dtype");
  }
}

// Runs `decode` and accepts only success or an aitdb::Error.
template <typename Decode>
void run_decoder(Decode&& decode) {
  try {
    decode();
  } catch (const aitdb::Error&) {
    // A refusal is the expected outcome for most mutated inputs.
  }
}

}  // namespace aitdb::fuzz
