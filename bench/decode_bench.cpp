// Decode-shaped benchmark (issue 7, "Speed and memory"). Three cases:
//
//   aitdb_decode_bench WORK_DIR [DECODE_TOKENS] [--layers L]   decode pair, full and half tokens
//   aitdb_decode_bench WORK_DIR --scale [TENSORS_PER_SIDE ...] 8-element tensors (10000 100000 1000000)
//   aitdb_decode_bench WORK_DIR --mid [TENSORS]                0.1-1.5 MB fp16/bf16/fp32 tensors (1000)
//
// The decode case writes (or reuses) an ATB pair of a prefill token and DECODE_TOKENS (191)
// decode tokens of L (16) layers, and the same at half the tokens. For each it prints ingest
// files/s and MB/s against `tar cf - DUMP | zstd -1 -T2 >/dev/null`, matching time alone
// (CompareSummary::match_seconds), compare pairs/s and MB/s with inputs, a plain numpy loop over
// the raw file pairs (bench/numpy_pair_loop.py, Debian's /usr/bin/python3), peak RSS, and at
// the end how time per pair grew from half to full.
//
// Ingest and compare run through the library API in a child copy of this program
// (--child-ingest / --child-compare), so the peak RSS is the child's own (wait4) and the
// matching time is the one compare_runs reports. As the other benchmarks: data just written
// settles AITDB_BENCH_SETTLE seconds (default 20), every step runs AITDB_BENCH_REPEATS times
// (default 3) and the median is the figure; AITDB_BENCH_TIMEOUT (seconds, default none) ends a
// child that runs longer, and the case stops there. Figures are printed, never asserted.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/schema/store.h"
#include "child_process.h"
#include "decode_dump_generator.h"
#include "dump_generator.h"

namespace fs = std::filesystem;
using aitdb::bench::median;
using aitdb::bench::Run;

namespace {

constexpr const char* kPython = "/usr/bin/python3";  // Debian's, with numpy (the first on PATH has none)

// ---- children: one library call each, results as key=value lines on stdout ----

int child_ingest(const std::string& db, const std::string& dump, const std::string& run_name) {
  aitdb::Store store(db);
  aitdb::ingest::IngestOptions options;
  options.run_name = run_name;
  options.replace = true;
  options.drop_comparisons = true;  // each repetition replaces the runs earlier ones compared
  options.on_error = [](const std::string& path, const std::string& reason) {
    std::fprintf(stderr, "%s: %s\n", path.c_str(), reason.c_str());
  };
  const auto r = aitdb::ingest::ingest_path(store, dump, options);
  std::printf("files=%llu\ntensors=%llu\nerrors=%llu\nraw_bytes=%llu\nstored_bytes=%llu\nseconds=%.6f\n",
              static_cast<unsigned long long>(r.files), static_cast<unsigned long long>(r.tensors),
              static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.raw_bytes),
              static_cast<unsigned long long>(r.stored_bytes), r.seconds);
  return r.errors == 0 ? 0 : 3;
}

int child_compare(const std::string& db, const std::string& golden, const std::string& my) {
  aitdb::Store store(db);
  aitdb::compare::CompareOptions options;
  options.include_inputs = true;  // every tensor of both dumps is compared, so the MB figure is exact
  const auto s = aitdb::compare::compare_runs(store, golden, my, options);
  std::printf("pairs=%llu\nfailed=%llu\nbytes=%llu\nseconds=%.6f\nmatch_seconds=%.6f\n",
              static_cast<unsigned long long>(s.pairs), static_cast<unsigned long long>(s.failed),
              static_cast<unsigned long long>(s.bytes), s.seconds, s.match_seconds);
  if (s.first_divergence) {
    const auto& d = *s.first_divergence;
    std::printf("first_divergence=%s cosine %.4f%s%s\n", d.my.c_str(), d.cosine.value_or(NAN),
                d.fail_reason.empty() ? "" : " ", d.fail_reason.c_str());
  }
  return 0;
}

// ---- parent side ----

struct ChildResult {
  Run run;
  std::map<std::string, std::string> values;
  [[nodiscard]] double number(const std::string& key) const {
    const auto it = values.find(key);
    return it == values.end() ? 0.0 : std::strtod(it->second.c_str(), nullptr);
  }
  [[nodiscard]] std::string text(const std::string& key) const {
    const auto it = values.find(key);
    return it == values.end() ? std::string("-") : it->second;
  }
  [[nodiscard]] bool ok() const { return run.status == 0; }
};

struct Settings {
  fs::path work;
  double settle_s = 20;
  int repeats = 3;
  unsigned timeout_s = 0;
  bool keep = false;
};

// Runs a command with its stdout in a file and parses key=value lines from it.
ChildResult run_collecting(const Settings& s, const std::vector<std::string>& args) {
  const fs::path out = s.work / "child.out";
  ChildResult r;
  r.run = aitdb::bench::run(args, out.string(), s.timeout_s);
  std::ifstream in(out);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) r.values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!r.ok()) {
    std::printf("  !! %s %s: %s\n", args[0].c_str(), args.size() > 1 ? args[1].c_str() : "",
                r.run.status == -1 ? "killed (AITDB_BENCH_TIMEOUT?)" : ("exit status " + std::to_string(r.run.status)).c_str());
  }
  return r;
}

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

ChildResult ingest(const Settings& s, const fs::path& db, const fs::path& dump, const std::string& run_name) {
  return run_collecting(s, {self_exe(), "--child-ingest", db.string(), dump.string(), run_name});
}

ChildResult compare(const Settings& s, const fs::path& db) {
  return run_collecting(s, {self_exe(), "--child-compare", db.string(), "golden", "my"});
}

// Reads the tree once so the contenders start from a warm page cache.
void warm(const fs::path& dump) {
  aitdb::bench::run({"sh", "-c", "tar cf - -C '" + dump.parent_path().string() + "' '" + dump.filename().string() +
                                     "' > /dev/null"});
}

Run tar_zstd_reference(const fs::path& dump) {
  warm(dump);
  return aitdb::bench::run({"sh", "-c", "tar cf - -C '" + dump.parent_path().string() + "' '" +
                                            dump.filename().string() + "' | zstd -1 -T2 > /dev/null"});
}

// The 1/5/15-minute load averages: on a machine shared with other work, the figure that says how
// far a timing is from a quiet machine's (steal only counts the hypervisor).
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

double mb(double bytes) { return bytes / 1e6; }
double rss_mb(const Run& r) { return static_cast<double>(r.max_rss_kb) / 1024.0; }
double max_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()); }
double min_of(const std::vector<double>& v) { return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end()); }

// A generated pair is kept next to a description of what was written; a later run with the same
// description reuses it (writing the full pair takes longer than benchmarking it).
struct PairOnDisk {
  aitdb::bench::DumpStats golden;
  std::string diverged_op;
};

template <class WritePair>
PairOnDisk ensure_pair(const fs::path& dir, const std::string& description, WritePair write_pair) {
  const fs::path marker = dir / "pair.txt";
  {
    std::ifstream in(marker);
    std::string line;
    PairOnDisk p;
    if (std::getline(in, line) && line == description && in >> p.golden.files >> p.golden.bytes >> p.golden.largest) {
      std::getline(in >> std::ws, p.diverged_op);
      std::printf("reusing %s (%s)\n", dir.c_str(), description.c_str());
      return p;
    }
  }
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf("writing %s (%s) ...\n", dir.c_str(), description.c_str());
  std::fflush(stdout);
  const auto t0 = std::chrono::steady_clock::now();
  const PairOnDisk p = write_pair();
  std::ofstream(marker) << description << "\n"
                        << p.golden.files << " " << p.golden.bytes << " " << p.golden.largest << "\n"
                        << p.diverged_op << "\n";
  std::printf("  %llu files, %.1f MB per side, written in %.0f s\n", static_cast<unsigned long long>(p.golden.files),
              mb(static_cast<double>(p.golden.bytes)),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return p;
}

std::string describe(const aitdb::bench::DecodeDumpSpec& d) {
  std::ostringstream o;
  o << "decode tokens=" << d.decode_tokens << " layers=" << d.layers << " hidden=" << d.hidden << " heads=" << d.heads
    << " intermediate=" << d.intermediate << " vocab=" << d.vocab << " prefill_seq=" << d.prefill_seq
    << " tiny=" << d.tiny_elements << " seed=" << d.seed << " noise=" << d.noise << " divergence=" << d.divergence;
  return o.str();
}

PairOnDisk ensure_decode_pair(const fs::path& dir, const aitdb::bench::DecodeDumpSpec& spec) {
  return ensure_pair(dir, describe(spec), [&] {
    const auto st = aitdb::bench::write_decode_dump_pair(dir, spec);
    return PairOnDisk{st.golden, st.diverged_op};
  });
}

// Medians of one decode-shaped pair, for the growth lines.
struct DecodeFigures {
  double tokens = 0;
  double files = 0;
  double pairs = 0;
  double ingest_s = 0;
  double match_s = 0;
  double compare_s = 0;
  double ingest_rss_mb = 0;
  double compare_rss_mb = 0;
  bool ok = false;
};

DecodeFigures decode_case(const Settings& s, const aitdb::bench::DecodeDumpSpec& spec) {
  DecodeFigures f;
  f.tokens = spec.decode_tokens + 1;
  const fs::path dir = s.work / ("decode_t" + std::to_string(spec.decode_tokens) + "_l" + std::to_string(spec.layers));
  const PairOnDisk pair = ensure_decode_pair(dir, spec);
  const fs::path golden = aitdb::bench::dump_root(dir / "golden");
  const fs::path my = aitdb::bench::dump_root(dir / "my");
  const fs::path db = dir / "bench.db";
  const double files = static_cast<double>(pair.golden.files);
  const double bytes = static_cast<double>(pair.golden.bytes);
  f.files = files;
  std::printf("\n== decode pair: 1 prefill + %d decode tokens, %d layers: %.0f tensor files, %.1f MB per side; "
              "my side diverges at */%s; load average %s\n",
              spec.decode_tokens, spec.layers, files, mb(bytes), pair.diverged_op.c_str(), load_average().c_str());

  std::printf("%-6s %4s %8s %9s %9s %10s %10s %9s %8s %8s %8s %7s %9s\n", "tokens", "run", "ref_s", "ref_MB/s",
              "ingest_s", "files/s", "MB/s", "vs_ref", "cpu_s", "steal_%", "RSS_MB", "my_s", "my_RSS_MB");
  std::vector<double> ratios;
  std::vector<double> ingest_s;
  for (int k = 1; k <= s.repeats; ++k) {
    aitdb::bench::settle(s.settle_s);  // no write-back of the dump or the last database competing
    const Run ref = tar_zstd_reference(golden);
    fs::remove(db);
    const ChildResult g = ingest(s, db, golden, "golden");
    const ChildResult m = ingest(s, db, my, "my");
    if (!g.ok() || !m.ok()) return f;
    ratios.push_back(ref.seconds / g.run.seconds);
    ingest_s.push_back(g.run.seconds);
    f.ingest_rss_mb = std::max({f.ingest_rss_mb, rss_mb(g.run), rss_mb(m.run)});
    std::printf("%-6.0f %4d %8.2f %9.1f %9.2f %10.0f %10.1f %8.2fx %8.2f %8.1f %8.1f %7.2f %9.1f\n", f.tokens, k,
                ref.seconds, mb(bytes) / ref.seconds, g.run.seconds, files / g.run.seconds, mb(bytes) / g.run.seconds,
                ref.seconds / g.run.seconds, g.run.cpu_seconds, g.run.steal_pct, rss_mb(g.run), m.run.seconds,
                rss_mb(m.run));
    std::fflush(stdout);
  }
  f.ingest_s = median(ingest_s);
  std::printf("ingest: median %.2fx tar|zstd (min %.2fx, max %.2fx), %.0f files/s, %.1f MB/s, peak RSS %.1f MB"
              "   [target >= 0.8x]\n",
              median(ratios), min_of(ratios), max_of(ratios), files / f.ingest_s, mb(bytes) / f.ingest_s,
              f.ingest_rss_mb);

  std::printf("%-6s %4s %8s %9s %9s %9s %10s %9s %8s %8s %8s\n", "tokens", "run", "pairs", "match_s", "compare_s",
              "wall_s", "pairs/s", "MB/s", "cpu_s", "steal_%", "RSS_MB");
  std::vector<double> match_s;
  std::vector<double> compare_s;
  std::vector<double> compare_wall;
  double compared_bytes = 0;
  std::string first_divergence;
  aitdb::bench::settle(s.settle_s);  // no write-back of the fresh database competing
  for (int k = 1; k <= s.repeats; ++k) {
    const ChildResult c = compare(s, db);
    if (!c.ok()) break;  // the numpy reference still runs: its figure stands on its own
    f.pairs = c.number("pairs");
    compared_bytes = c.number("bytes");
    first_divergence = c.text("first_divergence");
    const double secs = c.number("seconds");
    match_s.push_back(c.number("match_seconds"));
    compare_s.push_back(secs);
    compare_wall.push_back(c.run.seconds);
    f.compare_rss_mb = std::max(f.compare_rss_mb, rss_mb(c.run));
    std::printf("%-6.0f %4d %8.0f %9.2f %9.2f %9.2f %10.0f %9.1f %8.2f %8.1f %8.1f\n", f.tokens, k, f.pairs,
                match_s.back(), secs, c.run.seconds, f.pairs / secs, mb(compared_bytes) / secs, c.run.cpu_seconds,
                c.run.steal_pct, rss_mb(c.run));
    std::fflush(stdout);
  }
  const bool compared = !compare_s.empty();
  f.match_s = median(match_s);
  f.compare_s = median(compare_s);
  if (compared) std::printf("compare: median %.2f s, of which matching %.2f s (%.0f%%); %.0f pairs/s, %.1f MB/s, peak RSS %.1f MB"
              "   [target >= 25000 pairs/s]\n",
              f.compare_s, f.match_s, 100.0 * f.match_s / f.compare_s, f.pairs / f.compare_s,
              mb(compared_bytes) / f.compare_s, f.compare_rss_mb);
  if (compared) std::printf("first divergence: %s\n", first_divergence.c_str());
  std::printf("load average %s\n", load_average().c_str());

  // The plain reference: one Python process reading the raw file pairs and computing cosine.
  warm(golden);
  warm(my);
  std::vector<double> numpy_s;
  for (int k = 1; k <= s.repeats; ++k) {
    const ChildResult n = run_collecting(s, {kPython, AITDB_NUMPY_PAIR_LOOP, golden.string(), my.string()});
    if (!n.ok()) return f;
    numpy_s.push_back(n.run.seconds);
    std::printf("numpy run %d: %.0f pairs in %.2f s (%.0f pairs/s), lowest cosine %s\n", k, n.number("pairs"),
                n.run.seconds, n.number("pairs") / n.run.seconds, n.text("lowest_cosine").c_str());
    std::fflush(stdout);
  }
  const double wall = median(compare_wall);
  if (compared) {
    std::printf("vs numpy: aitdb compare %.2f s (process wall) vs numpy %.2f s: %.2fx   [target >= 3x]\n", wall,
                median(numpy_s), median(numpy_s) / wall);
  }
  fs::remove(db);
  f.ok = compared;
  return f;
}

void print_growth(const DecodeFigures& half, const DecodeFigures& full) {
  if (!half.ok || !full.ok || half.pairs == 0 || full.pairs == 0) return;
  const double size = full.pairs / half.pairs;
  std::printf("\n== growth, %.0f -> %.0f tokens (%.2fx the pairs)\n", half.tokens, full.tokens, size);
  std::printf("compare time  x%.2f  (per pair x%.2f)   [target: 2x dump <= 2.2x time]\n", full.compare_s / half.compare_s,
              (full.compare_s / full.pairs) / (half.compare_s / half.pairs));
  std::printf("matching time x%.2f  (per pair x%.2f)\n", full.match_s / half.match_s,
              (full.match_s / full.pairs) / (half.match_s / half.pairs));
  std::printf("ingest time   x%.2f  (per file x%.2f)\n", full.ingest_s / half.ingest_s,
              (full.ingest_s / full.files) / (half.ingest_s / half.files));
  std::printf("peak RSS      ingest %.1f -> %.1f MB, compare %.1f -> %.1f MB   [target: flat]\n", half.ingest_rss_mb,
              full.ingest_rss_mb, half.compare_rss_mb, full.compare_rss_mb);
}

// Million-tensor growth: 8-element tensors, so the file count grows without the bytes.
void scale_case(const Settings& s, std::vector<double> sizes, int layers) {
  if (sizes.empty()) sizes = {10'000, 100'000, 1'000'000};
  aitdb::bench::DecodeDumpSpec spec;
  spec.layers = layers;
  spec.tiny_elements = 8;
  const int per_token = aitdb::bench::decode_files_per_token(spec);
  std::printf("%-9s %7s %8s %9s %9s %9s %10s %11s %11s %9s %9s\n", "tensors", "tokens", "pairs", "ingest_s", "match_s",
              "compare_s", "pairs/s", "us/pair", "match_us/pr", "growth", "RSS_MB");
  double prev_pairs = 0;
  double prev_compare = 0;
  for (const double n : sizes) {
    spec.decode_tokens = std::max(1, static_cast<int>(std::ceil(n / per_token))) - 1;
    const fs::path dir = s.work / ("scale_" + std::to_string(static_cast<long long>(n)));
    const PairOnDisk pair = ensure_decode_pair(dir, spec);
    const fs::path db = dir / "bench.db";
    // A million tiny files per side is ~8 GB of blocks: gone when this size is done, unless --keep.
    const auto cleanup = [&] {
      if (!s.keep) fs::remove_all(dir);
    };
    fs::remove(db);
    aitdb::bench::settle(s.settle_s);
    const ChildResult g = ingest(s, db, aitdb::bench::dump_root(dir / "golden"), "golden");
    const ChildResult m = g.ok() ? ingest(s, db, aitdb::bench::dump_root(dir / "my"), "my") : g;
    if (!g.ok() || !m.ok()) {
      cleanup();
      break;
    }
    aitdb::bench::settle(s.settle_s);
    std::vector<double> match_s;
    std::vector<double> compare_s;
    double pairs = 0;
    double rss = 0;
    for (int k = 1; k <= s.repeats; ++k) {
      const ChildResult c = compare(s, db);
      if (!c.ok()) break;
      pairs = c.number("pairs");
      match_s.push_back(c.number("match_seconds"));
      compare_s.push_back(c.number("seconds"));
      rss = std::max(rss, rss_mb(c.run));
    }
    if (compare_s.size() != static_cast<std::size_t>(s.repeats)) {
      std::printf("%-9llu %7d: ingest %.2f s, compare did not finish; larger sizes skipped\n",
                  static_cast<unsigned long long>(pair.golden.files), spec.decode_tokens + 1, g.run.seconds);
      cleanup();
      break;
    }
    const double t = median(compare_s);
    // growth: time per pair relative to the previous size (1.0 = linear; n log n is a little above).
    const double growth = prev_pairs > 0 ? (t / pairs) / (prev_compare / prev_pairs) : 1.0;
    std::printf("%-9llu %7d %8.0f %9.2f %9.2f %9.2f %10.0f %11.1f %11.1f %8.2fx %9.1f\n",
                static_cast<unsigned long long>(pair.golden.files), spec.decode_tokens + 1, pairs, g.run.seconds,
                median(match_s), t, pairs / t, 1e6 * t / pairs, 1e6 * median(match_s) / pairs, growth, rss);
    std::fflush(stdout);
    prev_pairs = pairs;
    prev_compare = t;
    cleanup();
  }
  std::printf("target: time per pair flat from 10k to 1M tensors per side (each 2x of the dump <= 2.2x the time); "
              "load average %s\n", load_average().c_str());
}

// Mid-size tensors: compare throughput and how busy the cores are.
void mid_case(const Settings& s, int tensors) {
  aitdb::bench::MidSizeDumpSpec spec;
  spec.tensors = tensors;
  const fs::path dir = s.work / ("mid_" + std::to_string(tensors));
  const std::string description = "mid tensors=" + std::to_string(tensors) + " bytes=" + std::to_string(spec.min_bytes) +
                                  "-" + std::to_string(spec.max_bytes) + " seed=" + std::to_string(spec.seed) +
                                  " noise=0.001";
  const PairOnDisk pair = ensure_pair(dir, description, [&] {
    PairOnDisk p{aitdb::bench::write_mid_size_atb_dump(dir / "golden", spec), ""};
    spec.perturb = 0.001F;
    aitdb::bench::write_mid_size_atb_dump(dir / "my", spec);
    return p;
  });
  const fs::path db = dir / "bench.db";
  fs::remove(db);
  const ChildResult g = ingest(s, db, aitdb::bench::dump_root(dir / "golden"), "golden");
  const ChildResult m = g.ok() ? ingest(s, db, aitdb::bench::dump_root(dir / "my"), "my") : g;
  if (!g.ok() || !m.ok()) return;
  const double cores = std::max(1U, std::thread::hardware_concurrency());
  std::printf("\n== mid-size pair: %llu tensors per side, %.1f MB per side, largest %.2f MB\n",
              static_cast<unsigned long long>(pair.golden.files), mb(static_cast<double>(pair.golden.bytes)),
              mb(static_cast<double>(pair.golden.largest)));
  std::printf("%4s %8s %12s %9s %9s %9s %10s %8s %10s %8s %8s\n", "run", "pairs", "compared_MB", "match_s", "compare_s",
              "wall_s", "MB/s", "cpu_s", "cpu_busy", "steal_%", "RSS_MB");
  aitdb::bench::settle(s.settle_s);
  std::vector<double> rates;
  std::vector<double> busy;
  for (int k = 1; k <= s.repeats; ++k) {
    const ChildResult c = compare(s, db);
    if (!c.ok()) return;
    const double secs = c.number("seconds");
    const double compared = mb(c.number("bytes"));
    rates.push_back(compared / secs);
    // Cores kept busy: the child's user + system time over its wall time.
    busy.push_back(c.run.cpu_seconds / c.run.seconds);
    std::printf("%4d %8.0f %12.1f %9.2f %9.2f %9.2f %10.1f %8.2f %5.2f of %.0f %8.1f %8.1f\n", k, c.number("pairs"),
                compared, c.number("match_seconds"), secs, c.run.seconds, rates.back(), c.run.cpu_seconds,
                busy.back(), cores, c.run.steal_pct, rss_mb(c.run));
    std::fflush(stdout);
  }
  std::printf("mid-size compare: median %.1f MB/s (min %.1f, max %.1f), %.2f of %.0f cores busy"
              "   [target >= 1000 MB/s]; load average %s\n",
              median(rates), min_of(rates), max_of(rates), median(busy), cores, load_average().c_str());
  fs::remove(db);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: aitdb_decode_bench WORK_DIR [DECODE_TOKENS] [--layers L] [--keep]\n"
               "       aitdb_decode_bench WORK_DIR --scale [TENSORS_PER_SIDE ...] [--layers L] [--keep]\n"
               "       aitdb_decode_bench WORK_DIR --mid [TENSORS]\n"
               "env: AITDB_BENCH_SETTLE (s, default 20), AITDB_BENCH_REPEATS (default 3), AITDB_BENCH_TIMEOUT (s)\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 5 && std::string(argv[1]) == "--child-ingest") return child_ingest(argv[2], argv[3], argv[4]);
  if (argc >= 5 && std::string(argv[1]) == "--child-compare") return child_compare(argv[2], argv[3], argv[4]);
  if (argc < 2 || argv[1][0] == '-') usage();

  aitdb::bench::BenchArgs env;
  aitdb::bench::read_bench_env(env);
  Settings s;
  s.work = fs::absolute(argv[1]);
  s.settle_s = env.settle_s;
  s.repeats = env.repeats;
  if (const char* v = std::getenv("AITDB_BENCH_TIMEOUT")) s.timeout_s = static_cast<unsigned>(std::strtoul(v, nullptr, 10));
  enum class Case { Decode, Scale, Mid } which = Case::Decode;
  std::vector<double> numbers;
  int layers = 16;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--scale") {
      which = Case::Scale;
    } else if (a == "--mid") {
      which = Case::Mid;
    } else if (a == "--keep") {
      s.keep = true;
    } else if (a == "--layers" && i + 1 < argc) {
      layers = std::max(1, std::atoi(argv[++i]));
    } else if (!a.empty() && a[0] != '-') {
      numbers.push_back(std::strtod(a.c_str(), nullptr));
    } else {
      usage();
    }
  }
  fs::create_directories(s.work);
  std::printf("settle %.0f s, %d repeats, %u cores%s\n", s.settle_s, s.repeats, std::thread::hardware_concurrency(),
              s.timeout_s > 0 ? (", timeout " + std::to_string(s.timeout_s) + " s per child").c_str() : "");
  switch (which) {
    case Case::Scale:
      scale_case(s, numbers, layers);
      break;
    case Case::Mid:
      mid_case(s, numbers.empty() ? 1000 : static_cast<int>(numbers.front()));
      break;
    case Case::Decode: {
      aitdb::bench::DecodeDumpSpec full;
      full.layers = layers;
      if (!numbers.empty()) full.decode_tokens = std::max(1, static_cast<int>(numbers.front()));
      aitdb::bench::DecodeDumpSpec half = full;
      half.decode_tokens = std::max(1, (full.decode_tokens + 1) / 2 - 1);  // half the token folders
      // Half first: when a timeout ends the full case, the half figures are already out.
      const DecodeFigures h = decode_case(s, half);
      const DecodeFigures f = decode_case(s, full);
      print_growth(h, f);
      break;
    }
  }
  return 0;
}
