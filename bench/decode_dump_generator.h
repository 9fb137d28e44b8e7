#pragma once
// Writes a decode-shaped ATB dump pair (issue 7, "Speed and memory"): a prefill token and N
// decode tokens of an L-layer Llama-like model, every op's inputs and outputs kept, plus the
// topology JSON (one model JSON, one layer JSON per top-level op) and op_param.json of leaf ops.
// The "my" side is the golden one with small noise, except one op output in a middle layer that
// is perturbed strongly in every token, so a comparison has a first divergence.
#include <cstdint>
#include <filesystem>
#include <string>

#include "dump_generator.h"

namespace aitdb::bench {

struct DecodeDumpSpec {
  int decode_tokens = 191;  // token folders 1..N; folder 0 is the prefill
  int layers = 16;
  int hidden = 2048;        // decode activations [1, hidden] fp16: 4 KB
  int heads = 16;
  int intermediate = 5632;  // gate_up output [1, 2 * intermediate]: 22 KB
  int vocab = 16384;        // LM head output [1, vocab]: 32 KB
  int prefill_seq = 64;     // prefill activations [prefill_seq, hidden]
  // > 0: every tensor holds this many elements whatever its shape, so the file count can grow
  // to a million per side without the bytes (the scale case).
  int tiny_elements = 0;
  std::uint32_t seed = 1;
  float noise = 0.001F;     // the my side's relative noise
  float divergence = 0.5F;  // relative noise of the one perturbed op output (cosine ~0.89)
};

struct DecodePairStats {
  DumpStats golden;
  DumpStats my;
  std::string diverged_op;  // op directory (below the token folder) whose output was perturbed
};

// Tensor files one token folder holds (the prefill and a decode token hold the same number).
int decode_files_per_token(const DecodeDumpSpec& spec);

// Writes {out}/golden/msit_dump_20250101_000000 and {out}/my/msit_dump_20250101_000000.
DecodePairStats write_decode_dump_pair(const std::filesystem::path& out, const DecodeDumpSpec& spec);

}  // namespace aitdb::bench
