#include "test_support.h"

#include <gtest/gtest.h>

#include "aitdb/ingest/ingest.h"
#include "aitdb/query/output.h"
#include "aitdb/schema/store.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace aitdb::test {

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("aitdb_test_" + std::to_string(::getpid()) + "_" + std::to_string(rd()));
  fs::create_directories(path_);
  path_ = fs::canonical(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::vector<std::byte> bytes_of(const std::string& s) {
  std::vector<std::byte> v(s.size());
  std::memcpy(v.data(), s.data(), s.size());
  return v;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& content) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

void write_file(const fs::path& p, const std::vector<std::byte>& content) {
  write_file(p, std::string(reinterpret_cast<const char*>(content.data()), content.size()));
}

bool have_torch() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
  return ok;
}

int run_python(const std::string& script, const std::vector<std::string>& args) {
  // The hooks package is imported from the source tree, as a user would after `PYTHONPATH=python`.
  std::string cmd = "PYTHONPATH='" + std::string(AITDB_SOURCE_DIR) + "/python' /usr/bin/python3 '" +
                    std::string(AITDB_TEST_PY_DIR) + "/" + script + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  const int rc = std::system(cmd.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

CommandResult run_aitdb(const std::vector<std::string>& args, const std::vector<std::pair<std::string, std::string>>& env) {
  CommandResult r;
  TempDir tmp;
  std::vector<std::string> argv_s{AITDB_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const fs::path out = tmp / "out";
  const fs::path err = tmp / "err";
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) ::_exit(127);
    ::unsetenv("AITDB_DB");
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

std::vector<std::string> split_path(const std::string& rel) {
  std::vector<std::string> out;
  std::size_t s = 0;
  while (true) {
    const auto p = rel.find('/', s);
    out.push_back(rel.substr(s, p == std::string::npos ? std::string::npos : p - s));
    if (p == std::string::npos) return out;
    s = p + 1;
  }
}

std::optional<fs::path> shared_fixtures() {
  const fs::path p = fs::path(AITDB_SOURCE_DIR) / ".." / "shared" / "fixtures";
  if (fs::is_directory(p)) return fs::canonical(p);
  return std::nullopt;
}

std::string atb_f32(const std::vector<float>& values) {
  return atb_bin(0, {static_cast<std::int64_t>(values.size())}, bytes_of(values));
}

std::uint16_t f32_to_f16_bits(float f) {
  // Via the F16C-free reference: round-to-nearest-even on the bit pattern.
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 16U) & 0x8000U;
  const std::int32_t exp = static_cast<std::int32_t>((x >> 23U) & 0xFFU) - 127 + 15;
  std::uint32_t man = x & 0x7FFFFFU;
  if (((x >> 23U) & 0xFFU) == 0xFFU) return static_cast<std::uint16_t>(sign | 0x7C00U | (man ? 0x200U : 0));
  if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7C00U);
  if (exp <= 0) {
    if (exp < -10) return static_cast<std::uint16_t>(sign);
    man |= 0x800000U;
    const std::uint32_t shift = static_cast<std::uint32_t>(14 - exp);
    std::uint32_t h = man >> shift;
    const std::uint32_t rem = man & ((1U << shift) - 1);
    const std::uint32_t half = 1U << (shift - 1);
    if (rem > half || (rem == half && (h & 1U))) ++h;
    return static_cast<std::uint16_t>(sign | h);
  }
  std::uint32_t h = (static_cast<std::uint32_t>(exp) << 10U) | (man >> 13U);
  const std::uint32_t rem = man & 0x1FFFU;
  if (rem > 0x1000U || (rem == 0x1000U && (h & 1U))) ++h;
  return static_cast<std::uint16_t>(sign | h);
}

std::string scalar(Store& store, const std::string& sql) {
  std::string out = "<none>";
  store.execute(sql, {}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) { out = query::cell_text(r[0]); });
  return out;
}

void ingest_as(Store& store, const fs::path& path, const std::string& run) {
  ingest::IngestOptions o;
  o.run_name = run;
  const auto rep = ingest::ingest_path(store, path, o);
  ASSERT_EQ(rep.errors, 0U) << path;
}

}  // namespace aitdb::test
