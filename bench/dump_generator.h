#pragma once
// Writes a synthetic ATB dump tree (formats.md §2) with LLM-like shapes and value distributions,
// for benchmarks and the README demo. Deterministic for a given seed.
#include <cstdint>
#include <filesystem>

namespace aitdb::bench {

struct DumpSpec {
  std::uint64_t target_bytes = 1ULL << 30;  // approximate tensor payload to write
  int hidden = 4096;
  int seq = 256;
  int tokens = 2;
  std::uint32_t seed = 1;
  float perturb = 0.0F;  // relative noise added to every value (a "my" copy of a golden dump)
};

struct DumpStats {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;      // file bytes written
  std::uint64_t largest = 0;    // largest tensor payload
};

// Writes {out}/msit_dump_20250101_000000/... and returns what was written.
DumpStats write_atb_dump(const std::filesystem::path& out, const DumpSpec& spec);

}  // namespace aitdb::bench
