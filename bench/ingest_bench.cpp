// Ingest benchmark (issue: warehouse foundation). Generates synthetic ATB dumps, ingests each with
// the aitdb binary in a child process, and prints throughput, compression and the child's peak
// RSS next to the reference `tar cf - DUMP | zstd -1 -T2 > /dev/null` on the same dump.
//
//   aitdb_ingest_bench AITDB_BIN WORK_DIR [SIZE_MB ...]     (default sizes: 100 1024)
//
// Each size runs reference and ingest AITDB_BENCH_REPEATS times (default 3), with the dump or
// the database just written given time to settle first (BenchArgs::settle_s); every run is
// printed with the steal share seen during the ingest, and the median ratio is the figure.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "child_process.h"
#include "dump_generator.h"

namespace fs = std::filesystem;
using aitdb::bench::Run;
using aitdb::bench::run;

namespace {

// Reads the dump once so both contenders start from a warm page cache.
void warm(const fs::path& dir) {
  run({"sh", "-c", "tar cf - -C '" + dir.parent_path().string() + "' '" + dir.filename().string() + "' > /dev/null"});
}

}  // namespace

int main(int argc, char** argv) {
  const auto args = aitdb::bench::parse_bench_args(argc, argv, "aitdb_ingest_bench");
  const std::string& aitdb = args.aitdb;
  const fs::path work = args.work;
  const std::vector<double>& sizes = args.sizes_mb;
  std::printf("%-8s %6s %9s %4s %10s %10s %8s %11s %10s %10s %8s %12s\n", "dump_MB", "files", "largest", "run", "ref_s",
              "ref_MB/s", "ingest_s", "ingest_MB/s", "vs_ref", "stored/raw", "steal_%", "peak_RSS_MB");
  int rc = 0;
  for (const double mb : sizes) {
    const fs::path dir = work / ("dump_" + std::to_string(static_cast<int>(mb)));
    fs::remove_all(dir);
    aitdb::bench::DumpSpec spec;
    spec.target_bytes = static_cast<std::uint64_t>(mb * 1024 * 1024);
    const auto st = aitdb::bench::write_atb_dump(dir, spec);
    const fs::path dump = dir / "msit_dump_20250101_000000";
    const fs::path db = dir / "bench.db";
    const double raw = static_cast<double>(st.bytes) / 1e6;
    const double rss_cap = 64.0 + 4.0 * static_cast<double>(st.largest) / (1024.0 * 1024.0);
    std::vector<double> ratios;
    double peak_rss_mb = 0;
    for (int k = 1; k <= args.repeats; ++k) {
      aitdb::bench::settle(args.settle_s);  // no write-back of the dump or last database competing
      warm(dump);
      const Run ref =
          run({"sh", "-c", "tar cf - -C '" + dir.string() + "' msit_dump_20250101_000000 | zstd -1 -T2 > /dev/null"});
      fs::remove(db);
      const Run ing = run({aitdb, "ingest", "--db", db.string(), dump.string()});
      if (ing.status != 0) {
        std::fprintf(stderr, "aitdb ingest failed with status %d\n", ing.status);
        rc = 1;
      }
      const double stored = static_cast<double>(fs::file_size(db)) / 1e6;
      ratios.push_back(ref.seconds / ing.seconds);
      peak_rss_mb = std::max(peak_rss_mb, static_cast<double>(ing.max_rss_kb) / 1024.0);
      std::printf("%-8.0f %6llu %8.1fM %4d %10.2f %10.1f %8.2f %11.1f %9.2fx %10.3f %8.1f %12.1f\n", mb,
                  static_cast<unsigned long long>(st.files), static_cast<double>(st.largest) / 1e6, k, ref.seconds,
                  raw / ref.seconds, ing.seconds, raw / ing.seconds, ref.seconds / ing.seconds, stored / raw,
                  ing.steal_pct, static_cast<double>(ing.max_rss_kb) / 1024.0);
      std::fflush(stdout);
      fs::remove(db);
    }
    std::printf("%-8.0f median %.2fx the reference (min %.2fx, max %.2fx), peak RSS %.1f MB\n", mb,
                aitdb::bench::median(ratios), *std::min_element(ratios.begin(), ratios.end()),
                *std::max_element(ratios.begin(), ratios.end()), peak_rss_mb);
    std::printf("         target: ingest >= 0.8x reference; peak RSS <= 64 MB + 4 x largest tensor = %.1f MB\n",
                rss_cap);
    std::fflush(stdout);
    fs::remove_all(dir);
  }
  return rc;
}
