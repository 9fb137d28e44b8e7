// Which dump roots start at a directory (docs/discovery.md; the trees themselves in docs/formats.md
// and docs/formats_graph_mode.md). Decided from names so that scanning a big folder stays cheap.
#include "dump_roots.h"

#include <regex>

#include "aitdb/ingest/ge_dump.h"
#include "digits.h"

namespace aitdb::ingest {
namespace fs = std::filesystem;

bool is_atb_rank_name(const std::string& n) {
  static const std::regex r(R"(^(-?\d+|thread)_\d+$)");
  return std::regex_match(n, r);
}

bool is_torch_rank_name(const std::string& n) {
  static const std::regex r(R"(^[a-z]+\d*_\d+$)");
  return n.rfind("thread_", 0) != 0 && std::regex_match(n, r);
}

namespace {

bool is_number(const std::string& n) { return parse_int(n).has_value(); }
bool is_dump_time(const std::string& n) { return n.size() == 14 && all_digits(n); }
bool is_rank_folder(const std::string& n) { return parse_rank_folder(n).has_value(); }

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}
bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

// A directory holding at least one child directory accepted by `pred`.
template <typename Pred>
bool has_child_dir(const fs::path& dir, Pred pred, std::size_t& listed) {
  ++listed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && pred(it->path().filename().string())) return true;
  }
  return false;
}

bool is_ge_tree(const fs::path& dir, std::size_t& listed) {
  if (dir.filename() == "msit_ge_dump") return true;
  if (has_child_dir(dir, is_dump_time, listed)) return true;
  // worldsize{W}_global_rank{R}/{time}/...: GE; the same rank folder holding graph folders is FX.
  ++listed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (it->is_directory(ec) && is_rank_folder(n) && has_child_dir(it->path(), is_dump_time, listed)) return true;
  }
  return false;
}

bool is_fx_tree(const fs::path& dir, std::size_t& listed) {
  const std::string name = dir.filename().string();
  if (name == "msit_fx_dump") return true;
  if (name == "data_dump") {
    // data_dump/{token+1}/gm_{time}_dump/
    ++listed;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_directory(ec) && is_number(it->path().filename().string()) &&
          has_child_dir(it->path(), [](const std::string& n) { return n.starts_with("gm_") && n.ends_with("_dump"); },
                        listed)) {
        return true;
      }
    }
    return false;
  }
  return has_child_dir(dir, is_rank_folder, listed);  // GE was ruled out first
}

bool is_dump_data_tree(const fs::path& dir, std::size_t& listed) {
  if (!is_file(dir / "metadata.json")) return false;
  const std::string name = dir.filename().string();
  return name == "golden_tensor" || name == "acl_tensor" || name == "pta_tensor" || has_child_dir(dir, is_number, listed);
}

}  // namespace

DetectedDump make_root(std::string flavour, const fs::path& root, std::unique_ptr<DumpLayout> layout) {
  DetectedDump d;
  d.flavour = std::move(flavour);
  d.root = root;
  d.layout = std::move(layout);
  return d;
}

const char* recognised_dump_kinds() {
  return "looked for ATB trees (msit_dump*/ait_dump* with tensors/{dev}_{pid}, atb_dump_data/data, thread_{pid}), "
         "torch trees (torch_tensors/{dev}_{pid}), metadata.json trees (golden_tensor, acl_tensor, {pid}/{token}), "
         "GE trees (msit_ge_dump, worldsize*_global_rank*/{time}), FX trees (msit_fx_dump, data_dump/{n}/gm_*_dump) "
         "and tensor files (.bin .npy .pth .pt .safetensors, md5 placeholders)";
}

std::vector<DetectedDump> dump_roots_at(const fs::path& dir, std::size_t& listed) {
  std::vector<DetectedDump> out;
  const std::string name = dir.filename().string();
  bool atb = true;
  if (is_dir(dir / "tensors") && has_child_dir(dir / "tensors", is_atb_rank_name, listed)) {
    out.push_back(make_root("atb_tree", dir, make_atb_tree_layout({"tensors"})));
  } else if (name == "atb_dump_data" && is_dir(dir / "data") && has_child_dir(dir / "data", is_atb_rank_name, listed)) {
    out.push_back(make_root("atb_tree", dir, make_atb_tree_layout({"data"})));
  } else if ((name == "tensors" || name == "data") && has_child_dir(dir, is_atb_rank_name, listed)) {
    out.push_back(make_root("atb_tree", dir, make_atb_tree_layout({})));
  } else if (is_atb_rank_name(name) && has_child_dir(dir, is_number, listed)) {
    // A rank directory copied out of its tree: its name is the rank component of every path.
    out.push_back(make_root("atb_tree", dir, make_atb_tree_layout({})));
    out.back().implicit_prefix = {name};
  } else {
    atb = false;
  }
  if (is_dir(dir / "torch_tensors") && has_child_dir(dir / "torch_tensors", is_torch_rank_name, listed)) {
    // Beside an ATB tree the torch tree is a run of its own, rooted at its folder.
    if (atb) out.push_back(make_root("torch_tree", dir / "torch_tensors", make_torch_tree_layout({})));
    else out.push_back(make_root("torch_tree", dir, make_torch_tree_layout({"torch_tensors"})));
  } else if (!atb && name == "torch_tensors" && has_child_dir(dir, is_torch_rank_name, listed)) {
    out.push_back(make_root("torch_tree", dir, make_torch_tree_layout({})));
  } else if (!atb && is_torch_rank_name(name) && is_file(dir / "model_tree.json")) {
    out.push_back(make_root("torch_tree", dir, make_torch_tree_layout({})));
    out.back().implicit_prefix = {name};
  }
  if (!out.empty()) return out;
  if (is_dump_data_tree(dir, listed)) {
    out.push_back(make_root("dump_data", dir, make_files_layout()));
  } else if (is_ge_tree(dir, listed)) {
    out.push_back(make_root("ge_tree", dir, make_ge_tree_layout({})));
  } else if (is_fx_tree(dir, listed)) {
    out.push_back(make_root("fx_tree", dir, make_fx_tree_layout({})));
  }
  return out;
}

}  // namespace aitdb::ingest
