#include "dump_walker.h"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>

namespace aitdb::ingest {
namespace fs = std::filesystem;

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < a.size() && j < b.size()) {
    const bool da = std::isdigit(static_cast<unsigned char>(a[i])) != 0;
    const bool db = std::isdigit(static_cast<unsigned char>(b[j])) != 0;
    if (da && db) {
      std::size_t ei = i;
      std::size_t ej = j;
      while (ei < a.size() && std::isdigit(static_cast<unsigned char>(a[ei])) != 0) ++ei;
      while (ej < b.size() && std::isdigit(static_cast<unsigned char>(b[ej])) != 0) ++ej;
      // Compare digit runs by value: strip leading zeros, then length, then text.
      std::size_t si = i;
      std::size_t sj = j;
      while (si + 1 < ei && a[si] == '0') ++si;
      while (sj + 1 < ej && b[sj] == '0') ++sj;
      if (ei - si != ej - sj) return ei - si < ej - sj;
      const int c = a.compare(si, ei - si, b, sj, ej - sj);
      if (c != 0) return c < 0;
      i = ei;
      j = ej;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i;
      ++j;
    }
  }
  if (a.size() - i != b.size() - j) return a.size() - i < b.size() - j;
  return a < b;
}

DumpWalker::DumpWalker(fs::path root, std::optional<fs::path> single_file, SkipDir skip_dir)
    : root_(std::move(root)),
      root_prefix_(root_.string() + "/"),
      single_(std::move(single_file)),
      skip_dir_(std::move(skip_dir)) {
  if (!single_) push_dir(root_, "");
}

void DumpWalker::push_dir(const fs::path& dir, const std::string& rel) {
  Level l{dir, rel, {}, 0};
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    l.names.push_back(it->path().filename().string());
  }
  std::sort(l.names.begin(), l.names.end(), natural_less);
  stack_.push_back(std::move(l));
}

std::optional<WalkItem> DumpWalker::make_item(const fs::path& p, const std::string& rel) {
  WalkItem item;
  item.path = p;
  item.rel = rel;
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    item.error = "dangling symlink or unreadable entry";
    return item;
  }
  item.size = static_cast<std::uint64_t>(st.st_size);
  item.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  return item;
}

std::optional<WalkItem> DumpWalker::next() {
  if (single_) {
    if (single_done_) return std::nullopt;
    single_done_ = true;
    return make_item(*single_, single_->filename().string());
  }
  while (!stack_.empty()) {
    Level& top = stack_.back();
    if (top.pos >= top.names.size()) {
      stack_.pop_back();
      continue;
    }
    const std::string name = top.names[top.pos++];
    const fs::path p = top.dir / name;
    const std::string rel = top.rel.empty() ? name : top.rel + "/" + name;
    struct stat lst {};
    if (::lstat(p.c_str(), &lst) != 0) continue;  // vanished while walking
    if (S_ISLNK(lst.st_mode)) {
      std::error_code ec;
      const fs::path target = fs::canonical(p, ec);
      if (ec) {
        WalkItem item{p, rel, 0, std::nullopt, "dangling symlink"};
        return item;
      }
      if (target.string().rfind(root_prefix_, 0) != 0) {
        WalkItem item{p, rel, 0, std::nullopt, "symlink points outside the dump root (" + target.string() + ")"};
        return item;
      }
      // Inside the root: a linked directory is walked at its real place, a linked file is read
      // (ATB's --enable-symlink dedups identical tensors this way).
      if (fs::is_directory(target, ec)) continue;
      return make_item(p, rel);
    }
    if (S_ISDIR(lst.st_mode)) {
      if (skip_dir_ && skip_dir_(rel)) continue;
      push_dir(p, rel);
      continue;
    }
    if (S_ISREG(lst.st_mode)) return make_item(p, rel);
    // sockets, fifos, devices: never opened
    WalkItem item{p, rel, 0, std::nullopt, "not a regular file"};
    return item;
  }
  return std::nullopt;
}

}  // namespace aitdb::ingest
