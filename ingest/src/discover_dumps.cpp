// Finds the dump roots of a path given to `aitdb ingest` (docs/discovery.md): the root above a
// path inside a dump, else every root at or below the path within the search limits, plus
// folders of loose tensor files; then names the runs and keeps their walks apart.
#include <algorithm>
#include <map>

#include "aitdb/ingest/discover.h"
#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "dump_roots.h"
#include "dump_walker.h"

namespace aitdb::ingest {
namespace fs = std::filesystem;
namespace {

// Folder names every dump of a kind shares: a run is named "{parent}/{name}" for them.
bool is_generic_folder(const std::string& n) {
  for (const char* g : {"tensors", "torch_tensors", "data", "golden_tensor", "acl_tensor", "pta_tensor",
                        "atb_dump_data", "msit_ge_dump", "msit_fx_dump", "data_dump"}) {
    if (n == g) return true;
  }
  return false;
}

std::string folder_name(const fs::path& dir) {
  const std::string base = dir.filename().string();
  if (is_generic_folder(base) && dir.has_parent_path() && !dir.parent_path().filename().empty()) {
    return dir.parent_path().filename().string() + "/" + base;
  }
  return base.empty() ? "run" : base;
}

std::string rel_of(const fs::path& p, const fs::path& base) { return p.lexically_relative(base).generic_string(); }

bool is_under(const fs::path& p, const fs::path& dir) {
  const std::string rel = rel_of(p, dir);
  return !rel.empty() && rel != "." && !rel.starts_with("..");
}

DetectedDump single_file_run(const fs::path& file, const std::string& shown) {
  ReadLimits unlimited;
  unlimited.max_file_size = UINT64_MAX;
  const FileFormat f = sniff_format(file, unlimited);
  if (f == FileFormat::Unknown) {
    throw FormatError(shown, "not a recognised tensor file (no ATB header, npy, zip or safetensors magic)");
  }
  const std::string flavour(format_name(f == FileFormat::Md5Placeholder ? FileFormat::AtbBin : f));
  DetectedDump d = make_root(flavour, file.parent_path(), make_files_layout());
  d.single_file = file;
  d.name = file.filename().string();
  return d;
}

// `input` lies inside the tensor tree of a dump (…/tensors/{rank}/…, …/torch_tensors/{rank}/…):
// the dump's root, walking only that part of its tensor tree.
std::optional<DetectedDump> enclosing_root(const fs::path& input) {
  std::size_t listed = 0;
  for (fs::path child = input, tree = input.parent_path(); tree.has_filename(); child = tree, tree = tree.parent_path()) {
    const std::string tree_name = tree.filename().string();
    const std::string child_name = child.filename().string();
    const bool atb = (tree_name == "tensors" || tree_name == "data") && is_atb_rank_name(child_name);
    const bool torch = tree_name == "torch_tensors" && is_torch_rank_name(child_name);
    if (!atb && !torch) continue;
    std::vector<DetectedDump> roots = dump_roots_at(tree.parent_path(), listed);
    if (roots.empty()) roots = dump_roots_at(tree, listed);
    for (auto& r : roots) {
      if ((r.flavour == "torch_tree") != torch || !r.implicit_prefix.empty()) continue;
      if (r.root != tree && r.root != tree.parent_path()) continue;
      r.scope.kept = rel_of(input, r.root);
      r.scope.kept_within = r.root == tree ? "" : rel_of(tree, r.root);
      r.name = folder_name(r.root) + "/" + *r.scope.kept;
      return std::move(r);
    }
    return std::nullopt;  // a tensors/ folder that is no dump's: search downwards instead
  }
  return std::nullopt;
}

// Depth-first search below the input for roots and folders holding loose tensor files.
class RootSearch {
 public:
  explicit RootSearch(const DiscoveryLimits& limits) : limits_(limits) {}

  void search(const fs::path& dir, int depth, bool in_loose_folder) {
    if (listed_ >= limits_.max_dirs) {
      stopped_ = true;
      return;
    }
    std::vector<DetectedDump> here = dump_roots_at(dir, listed_);
    if (!here.empty()) {
      for (auto& r : here) roots_.push_back(std::move(r));
      return;  // nothing below a root is searched: the root's run walks it
    }
    ++listed_;
    std::vector<std::string> subdirs;
    bool has_tensor_file = false;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string n = it->path().filename().string();
      if (it->is_symlink(ec)) continue;  // never leave the tree through a link while searching
      if (it->is_directory(ec)) subdirs.push_back(n);
      else if (it->is_regular_file(ec) && is_tensor_file_name(n)) has_tensor_file = true;
    }
    if (has_tensor_file && !in_loose_folder) {
      loose_.push_back(dir);
      in_loose_folder = true;
    }
    if (depth >= limits_.max_depth) {
      if (!subdirs.empty()) depth_limited_ = true;
      return;
    }
    std::sort(subdirs.begin(), subdirs.end(), natural_less);
    for (const auto& s : subdirs) search(dir / s, depth + 1, in_loose_folder);
  }

  std::vector<DetectedDump>& roots() { return roots_; }
  [[nodiscard]] const std::vector<fs::path>& loose_folders() const { return loose_; }
  [[nodiscard]] std::vector<std::string> notes() const {
    std::vector<std::string> n;
    if (stopped_) n.push_back("search stopped after listing " + std::to_string(limits_.max_dirs) + " directories");
    if (depth_limited_) n.push_back("folders deeper than " + std::to_string(limits_.max_depth) + " levels were not searched");
    return n;
  }

 private:
  const DiscoveryLimits& limits_;
  std::size_t listed_ = 0;
  bool stopped_ = false;
  bool depth_limited_ = false;
  std::vector<DetectedDump> roots_;
  std::vector<fs::path> loose_;
};

// A root's walk leaves out every other root found inside it (a torch_tensors run beside its ATB
// tree, a dump inside a folder of loose files): no file belongs to two runs.
void exclude_nested_roots(std::vector<DetectedDump>& roots) {
  for (auto& outer : roots) {
    if (outer.single_file) continue;
    for (const auto& inner : roots) {
      if (&inner != &outer && is_under(inner.root, outer.root)) outer.scope.excluded.push_back(rel_of(inner.root, outer.root));
    }
  }
}

// Readable names; roots sharing one are named by their path relative to the input.
void name_roots(std::vector<DetectedDump>& roots, const fs::path& input) {
  std::map<std::string, int> uses;
  for (auto& r : roots) {
    if (r.name.empty()) r.name = folder_name(r.root);
    ++uses[r.name];
  }
  for (auto& r : roots) {
    if (uses[r.name] > 1 && is_under(r.root, input)) r.name = rel_of(r.root, input);
  }
}

}  // namespace

Discovery discover_dumps(const fs::path& input, const DiscoveryLimits& limits) {
  std::error_code ec;
  const auto st = fs::status(input, ec);
  if (ec || !fs::exists(st)) throw FormatError(input.string(), "no such file or directory");
  const fs::path canon = fs::canonical(input, ec);
  if (ec) throw FormatError(input.string(), "cannot resolve path: " + ec.message());
  Discovery out;
  if (fs::is_regular_file(st)) {
    out.roots.push_back(single_file_run(canon, input.string()));
    return out;
  }
  if (!fs::is_directory(st)) throw FormatError(input.string(), "neither a regular file nor a directory");
  if (auto inside = enclosing_root(canon)) {
    out.roots.push_back(std::move(*inside));
    return out;
  }
  RootSearch search(limits);
  search.search(canon, 0, false);
  out.notes = search.notes();
  auto& roots = search.roots();
  if (roots.empty()) {
    if (search.loose_folders().empty()) {
      std::string limits_hit;
      for (const auto& n : out.notes) limits_hit += "; " + n;
      throw FormatError(input.string(), "no dump found" + limits_hit + ": " + recognised_dump_kinds());
    }
    // A folder too big to search fully is not taken whole as one run of loose files.
    if (!out.notes.empty()) {
      throw FormatError(input.string(), "no dump found (" + out.notes.front() + "); tensor files are in " +
                                            search.loose_folders().front().string() + ": give that folder");
    }
    // Only loose files: one run of everything below the input, as any folder of tensors.
    DetectedDump d = make_root("files", canon, make_files_layout());
    d.name = canon.filename().string();
    out.roots.push_back(std::move(d));
    return out;
  }
  for (const auto& dir : search.loose_folders()) {
    roots.push_back(make_root("files", dir, make_files_layout()));
  }
  std::sort(roots.begin(), roots.end(),
            [](const DetectedDump& a, const DetectedDump& b) { return natural_less(a.root.string(), b.root.string()); });
  exclude_nested_roots(roots);
  name_roots(roots, canon);
  out.roots = std::move(roots);
  return out;
}

}  // namespace aitdb::ingest
