#pragma once
// Writes synthetic ATB dump trees (docs/formats.md, "ATB dump tree") with LLM-like shapes and value distributions,
// for benchmarks and the README demo. Deterministic for a given seed.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

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

// Element types the writer produces; the values are ATB's dtype codes (docs/formats.md, "ATB dtype codes").
enum class AtbDtype : int { F32 = 0, F16 = 1, BF16 = 27 };

// Writes ATB TensorBinFiles (full header, one `data` object) of N(0, scale) values. The values
// are a function of the file's path below `/tensors/` and the seed, so a golden tree and a
// perturbed copy written with the same seed line up value for value, and no two files of a tree
// repeat (repeats would flatter dedup). A copy's noise is multiplicative: v * (1 + perturb * N(0, 1)).
class AtbTensorWriter {
 public:
  AtbTensorWriter(std::uint32_t seed, float perturb, DumpStats& stats);

  void tensor(const std::filesystem::path& path, AtbDtype dtype, const std::vector<std::int64_t>& dims, float scale) {
    tensor(path, dtype, dims, scale, perturb_);
  }
  // Same, with this file's own noise level (one strongly perturbed op in an otherwise close copy).
  void tensor(const std::filesystem::path& path, AtbDtype dtype, const std::vector<std::int64_t>& dims, float scale,
              float perturb);

 private:
  std::uint32_t seed_;
  float perturb_;
  DumpStats& stats_;
  std::uint64_t noise_state_;
  std::vector<std::uint8_t> payload_;  // reused: no fresh pages per file
};

// One ATB TensorBinFile (full header, one `data` object) holding `payload` as it is; counted in
// `stats`. `dtype_code` is ATB's (docs/formats.md, "ATB dtype codes").
void write_atb_tensor_file(const std::filesystem::path& path, int dtype_code, const std::vector<std::int64_t>& dims,
                           std::span<const std::uint8_t> payload, DumpStats& stats);

// Writes {out}/msit_dump_20250101_000000/... and returns what was written.
DumpStats write_atb_dump(const std::filesystem::path& out, const DumpSpec& spec);

// One token of `tensors` files whose payloads are spread evenly over [min_bytes, max_bytes],
// dtypes cycling fp16, bf16, fp32 (the mid-size compare case: neither decode-small nor
// prefill-large). Half are op inputs, half outputs, so a comparison with inputs pairs them all.
struct MidSizeDumpSpec {
  int tensors = 1000;
  std::uint64_t min_bytes = 100'000;
  std::uint64_t max_bytes = 1'500'000;
  std::uint32_t seed = 1;
  float perturb = 0.0F;
};
// Writes {out}/msit_dump_20250101_000000/... and returns what was written.
DumpStats write_mid_size_atb_dump(const std::filesystem::path& out, const MidSizeDumpSpec& spec);

// The dump root the writers above create under `out`.
inline std::filesystem::path dump_root(const std::filesystem::path& out) { return out / "msit_dump_20250101_000000"; }

}  // namespace aitdb::bench
