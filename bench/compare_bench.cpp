// Compare benchmark (issue: compare engine). Generates a golden ATB dump and a perturbed copy,
// ingests both, then times `aitdb compare` in a child process: MB/s of tensor data compared
// (both sides) and the child's peak RSS, for each size given.
//
//   aitdb_compare_bench AITDB_BIN WORK_DIR [SIZE_MB ...]     (default sizes: 100 1024)
//
// After ingest it waits for the fresh database to settle (BenchArgs::settle_s), then compares
// AITDB_BENCH_REPEATS times (default 3), each a new comparison of the same runs; every run is
// printed with the steal share /proc/stat saw during it, and the median is the figure.
#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "child_process.h"
#include "dump_generator.h"

namespace fs = std::filesystem;
using aitdb::bench::run;

int main(int argc, char** argv) {
  const auto args = aitdb::bench::parse_bench_args(argc, argv, "aitdb_compare_bench");
  const std::string& aitdb = args.aitdb;
  const fs::path work = args.work;
  const std::vector<double>& sizes = args.sizes_mb;
  std::printf("%-8s %7s %12s %4s %10s %12s %10s %8s %12s\n", "dump_MB", "tensors", "compared_MB", "run", "compare_s",
              "compare_MB/s", "cpu_s", "steal_%", "peak_RSS_MB");
  int rc = 0;
  for (const double mb : sizes) {
    const fs::path dir = work / ("cmp_" + std::to_string(static_cast<int>(mb)));
    fs::remove_all(dir);
    aitdb::bench::DumpSpec spec;
    spec.target_bytes = static_cast<std::uint64_t>(mb * 1024 * 1024);
    const auto st = aitdb::bench::write_atb_dump(dir / "golden", spec);
    spec.perturb = 0.001F;
    aitdb::bench::write_atb_dump(dir / "my", spec);
    const std::string db = (dir / "bench.db").string();
    const std::string dump = "msit_dump_20250101_000000";
    if (run({aitdb, "ingest", "--db", db, "--run", "golden", (dir / "golden" / dump).string()}).status != 0 ||
        run({aitdb, "ingest", "--db", db, "--run", "my", (dir / "my" / dump).string()}).status != 0) {
      std::fprintf(stderr, "ingest failed\n");
      return 1;
    }
    fs::remove_all(dir / "golden");  // the comparison reads only the warehouse
    fs::remove_all(dir / "my");
    aitdb::bench::settle(args.settle_s);  // no write-back of the fresh database competing
    const double compared = 2.0 * static_cast<double>(st.bytes) / 1e6;
    std::vector<double> rates;
    double peak_rss_mb = 0;
    for (int k = 1; k <= args.repeats; ++k) {
      // --inputs: every tensor of both dumps is compared, so the MB figure is exact.
      const auto c = run({aitdb, "compare", "--db", db, "golden", "my", "--inputs"});
      if (c.status != 0) {
        std::fprintf(stderr, "aitdb compare failed with status %d\n", c.status);
        rc = 1;
      }
      rates.push_back(compared / c.seconds);
      peak_rss_mb = std::max(peak_rss_mb, static_cast<double>(c.max_rss_kb) / 1024.0);
      std::printf("%-8.0f %7llu %12.1f %4d %10.2f %12.1f %10.2f %8.1f %12.1f\n", mb,
                  static_cast<unsigned long long>(st.files), compared, k, c.seconds, compared / c.seconds,
                  c.cpu_seconds, c.steal_pct, static_cast<double>(c.max_rss_kb) / 1024.0);
      std::fflush(stdout);
    }
    std::printf("%-8.0f median %.1f MB/s (min %.1f, max %.1f), peak RSS %.1f MB\n", mb,
                aitdb::bench::median(rates), *std::min_element(rates.begin(), rates.end()),
                *std::max_element(rates.begin(), rates.end()), peak_rss_mb);
    std::printf("         target: >= 1000 MB/s; peak RSS flat as the dump grows\n");
    std::fflush(stdout);
    fs::remove_all(dir);
  }
  return rc;
}
