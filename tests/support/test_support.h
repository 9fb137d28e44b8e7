#pragma once
// Test-only writers that build dump files byte by byte, and small helpers.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "format_writers.h"

namespace aitdb {
class Store;
}  // namespace aitdb

namespace aitdb::test {

namespace fs = std::filesystem;

// A fresh directory removed at scope exit.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  fs::path path_;
};

std::vector<std::byte> bytes_of(const std::string& s);
template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& v) {
  std::vector<std::byte> out(v.size() * sizeof(T));
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}
// "a/b/c" → {"a", "b", "c"}: a dump-relative path as layouts receive it.
std::vector<std::string> split_path(const std::string& rel);
std::string read_file(const fs::path& p);
void write_file(const fs::path& p, const std::string& content);  // creates parent dirs
void write_file(const fs::path& p, const std::vector<std::byte>& content);

// Debian's interpreter with numpy/torch (the first python3 on PATH may lack them).
bool have_torch();
// Runs tests/py/SCRIPT with args; returns its exit status.
int run_python(const std::string& script, const std::vector<std::string>& args);

// Runs the aitdb binary; captures stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// `env` entries are set in the child (AITDB_DB is cleared unless given here).
CommandResult run_aitdb(const std::vector<std::string>& args,
                        const std::vector<std::pair<std::string, std::string>>& env = {});

// The shared reference fixtures, when ../shared is beside the repo.
std::optional<fs::path> shared_fixtures();

// The first column of the first row of `sql` as the table output prints it, "<none>" without rows.
std::string scalar(Store& store, const std::string& sql);
// Ingests `path` as run `run`; a failed assertion when any file was skipped.
void ingest_as(Store& store, const fs::path& path, const std::string& run);

// ATB .bin of a float32 vector (dtype code 0, one dimension).
std::string atb_f32(const std::vector<float>& values);

std::uint16_t f32_to_f16_bits(float f);  // round to nearest even, for building fp16 payloads

}  // namespace aitdb::test
