// aitdb_gen_dump OUT_DIR [MB] [--perturb X] [--seed N]: writes a synthetic ATB dump.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dump_generator.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: aitdb_gen_dump OUT_DIR [MB] [--perturb X] [--seed N]\n");
    return 2;
  }
  aitdb::bench::DumpSpec spec;
  spec.target_bytes = 64ULL << 20U;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--perturb" && i + 1 < argc) {
      spec.perturb = std::strtof(argv[++i], nullptr);
    } else if (a == "--seed" && i + 1 < argc) {
      spec.seed = static_cast<std::uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      spec.target_bytes = static_cast<std::uint64_t>(std::strtod(a.c_str(), nullptr) * (1 << 20));
    }
  }
  const auto st = aitdb::bench::write_atb_dump(argv[1], spec);
  std::printf("wrote %llu files, %.1f MB under %s/msit_dump_20250101_000000\n", static_cast<unsigned long long>(st.files),
              static_cast<double>(st.bytes) / 1e6, argv[1]);
  return 0;
}
