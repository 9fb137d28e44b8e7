#pragma once
// Lazy, deterministic walk of a dump root: directory entries in natural order ("2" < "10"), one
// directory listing in memory per level, so memory does not grow with the size of the dump.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace aitdb::ingest {

struct WalkItem {
  std::filesystem::path path;  // absolute (the symlink itself for links)
  std::string rel;             // '/'-joined, relative to the root
  std::uint64_t size = 0;
  std::optional<std::int64_t> mtime_ns;
  std::optional<std::string> error;  // set when the entry is refused (e.g. symlink leaving the root)
};

bool natural_less(const std::string& a, const std::string& b);

class DumpWalker {
 public:
  // Directories (by path relative to the root) for which this returns true are not entered.
  using SkipDir = std::function<bool(const std::string& rel_dir)>;
  // Walks root; or, with single_file, yields just that file.
  DumpWalker(std::filesystem::path root, std::optional<std::filesystem::path> single_file, SkipDir skip_dir = {});
  std::optional<WalkItem> next();

 private:
  struct Level {
    std::filesystem::path dir;
    std::string rel;
    std::vector<std::string> names;
    std::size_t pos = 0;
  };
  void push_dir(const std::filesystem::path& dir, const std::string& rel);
  std::optional<WalkItem> make_item(const std::filesystem::path& p, const std::string& rel);

  std::filesystem::path root_;
  std::string root_prefix_;
  std::optional<std::filesystem::path> single_;
  bool single_done_ = false;
  SkipDir skip_dir_;
  std::vector<Level> stack_;
};

}  // namespace aitdb::ingest
