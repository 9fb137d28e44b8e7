#pragma once
// Runs a benchmark contender as a child process and reports its wall time and peak RSS.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <string>
#include <vector>

namespace aitdb::bench {

struct Run {
  double seconds = 0;
  long max_rss_kb = 0;
  int status = -1;
};

inline Run run(const std::vector<std::string>& args) {
  std::fflush(stdout);  // the child would otherwise flush our buffered lines a second time
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    std::vector<std::string> a = args;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    if (!std::freopen("/dev/null", "w", stdout)) ::_exit(127);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage ru {};
  ::wait4(pid, &status, 0, &ru);
  Run r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.max_rss_kb = ru.ru_maxrss;
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}


struct BenchArgs {
  std::string aitdb;             // absolute path of the aitdb binary
  std::string work;              // scratch directory for generated dumps
  std::vector<double> sizes_mb;  // dump sizes to run, default 100 and 1024 MB
};

// argv: AITDB_BIN WORK_DIR [SIZE_MB ...]; prints usage and exits 2 when too short.
inline BenchArgs parse_bench_args(int argc, char** argv, const char* name) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s AITDB_BIN WORK_DIR [SIZE_MB ...]\n", name);
    std::exit(2);
  }
  BenchArgs a{std::filesystem::absolute(argv[1]).string(), argv[2], {}};
  for (int i = 3; i < argc; ++i) a.sizes_mb.push_back(std::strtod(argv[i], nullptr));
  if (a.sizes_mb.empty()) a.sizes_mb = {100, 1024};
  return a;
}

}  // namespace aitdb::bench
