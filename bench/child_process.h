#pragma once
// Runs a benchmark contender as a child process and reports its wall time and peak RSS.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace aitdb::bench {

struct Run {
  double seconds = 0;
  long max_rss_kb = 0;
  double cpu_seconds = 0;  // the child's user + system time
  double steal_pct = 0;    // share of the machine's CPU time the hypervisor took during the run
  int status = -1;
};

// Aggregate CPU tick counters of /proc/stat: all states, and steal (8th field).
struct CpuTicks {
  unsigned long long total = 0, steal = 0;
};
inline CpuTicks cpu_ticks() {
  CpuTicks t;
  if (std::FILE* f = std::fopen("/proc/stat", "r")) {
    unsigned long long v[8] = {};
    if (std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
                    &v[7]) == 8) {
      for (const auto x : v) t.total += x;
      t.steal = v[7];
    }
    std::fclose(f);
  }
  return t;
}

// Runs args[0] with args, its stdout going to `stdout_path`. With timeout_s > 0 the child gets
// SIGALRM after that many seconds (an alarm survives exec), so an over-long contender ends the
// case instead of the session: status is then -1.
inline Run run(const std::vector<std::string>& args, const std::string& stdout_path = "/dev/null",
               unsigned timeout_s = 0) {
  std::fflush(stdout);  // the child would otherwise flush our buffered lines a second time
  const CpuTicks c0 = cpu_ticks();
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::vector<std::string> a = args;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (!std::freopen(stdout_path.c_str(), "w", stdout)) ::_exit(127);
    if (timeout_s > 0) ::alarm(timeout_s);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  Run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  const CpuTicks c1 = cpu_ticks();
  if (c1.total > c0.total) {
    r.steal_pct = 100.0 * static_cast<double>(c1.steal - c0.steal) / static_cast<double>(c1.total - c0.total);
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}


struct BenchArgs {
  std::string aitdb;             // absolute path of the aitdb binary
  std::string work;              // scratch directory for generated dumps
  std::vector<double> sizes_mb;  // dump sizes to run, default 100 and 1024 MB
  // On a VM the host keeps writing freshly written files out for seconds after `sync` returns
  // and takes CPU from the guest meanwhile (measured: first runs 1.5-2x slower, up to 30%
  // steal). Benchmarks wait this long after writing a dump or database (AITDB_BENCH_SETTLE).
  double settle_s = 20;
  int repeats = 3;  // timed runs per size, the median is the figure (AITDB_BENCH_REPEATS)
};

// Lets freshly written data reach the disk before a timed run (see BenchArgs::settle_s).
inline void settle(double seconds);

// Settle time and repeats from AITDB_BENCH_SETTLE and AITDB_BENCH_REPEATS, when set.
inline void read_bench_env(BenchArgs& a) {
  if (const char* v = std::getenv("AITDB_BENCH_SETTLE")) a.settle_s = std::strtod(v, nullptr);
  if (const char* v = std::getenv("AITDB_BENCH_REPEATS")) a.repeats = std::max(1, std::atoi(v));
}

// argv: AITDB_BIN WORK_DIR [SIZE_MB ...]; prints usage and exits 2 when too short.
inline BenchArgs parse_bench_args(int argc, char** argv, const char* name) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s AITDB_BIN WORK_DIR [SIZE_MB ...]\n", name);
    std::exit(2);
  }
  BenchArgs a{std::filesystem::absolute(argv[1]).string(), argv[2], {}};
  for (int i = 3; i < argc; ++i) a.sizes_mb.push_back(std::strtod(argv[i], nullptr));
  if (a.sizes_mb.empty()) a.sizes_mb = {100, 1024};
  read_bench_env(a);
  return a;
}

inline void settle(double seconds) {
  run({"sync"});
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// The middle value (the upper one of the two middles for an even count).
inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

}  // namespace aitdb::bench
