// aitdb_gen_dump OUT_DIR [MB] [--perturb X] [--seed N]: writes a synthetic ATB dump.
// aitdb_gen_dump OUT_DIR --decode TOKENS [--layers L] [--seed N]: writes a decode-shaped pair
// (OUT_DIR/golden and OUT_DIR/my, bench/decode_dump_generator.h).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "decode_dump_generator.h"
#include "dump_generator.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: aitdb_gen_dump OUT_DIR [MB] [--perturb X] [--seed N]\n"
                 "       aitdb_gen_dump OUT_DIR --decode TOKENS [--layers L] [--seed N]\n");
    return 2;
  }
  aitdb::bench::DumpSpec spec;
  spec.target_bytes = 64ULL << 20U;
  aitdb::bench::DecodeDumpSpec decode;
  bool decode_pair = false;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--perturb" && i + 1 < argc) {
      spec.perturb = std::strtof(argv[++i], nullptr);
    } else if (a == "--seed" && i + 1 < argc) {
      spec.seed = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
      decode.seed = spec.seed;
    } else if (a == "--decode" && i + 1 < argc) {
      decode_pair = true;
      decode.decode_tokens = std::atoi(argv[++i]);
    } else if (a == "--layers" && i + 1 < argc) {
      decode.layers = std::atoi(argv[++i]);
    } else {
      spec.target_bytes = static_cast<std::uint64_t>(std::strtod(a.c_str(), nullptr) * (1 << 20));
    }
  }
  if (decode_pair) {
    const auto st = aitdb::bench::write_decode_dump_pair(argv[1], decode);
    std::printf("wrote %llu + %llu files, %.1f + %.1f MB under %s/{golden,my}/msit_dump_20250101_000000; "
                "my diverges at token */%s\n",
                static_cast<unsigned long long>(st.golden.files), static_cast<unsigned long long>(st.my.files),
                static_cast<double>(st.golden.bytes) / 1e6, static_cast<double>(st.my.bytes) / 1e6, argv[1],
                st.diverged_op.c_str());
    return 0;
  }
  const auto st = aitdb::bench::write_atb_dump(argv[1], spec);
  std::printf("wrote %llu files, %.1f MB under %s/msit_dump_20250101_000000\n", static_cast<unsigned long long>(st.files),
              static_cast<double>(st.bytes) / 1e6, argv[1]);
  return 0;
}
