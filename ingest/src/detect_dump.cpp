// Decides the flavour of a path given to `aitdb ingest`.
#include <charconv>
#include <regex>

#include "aitdb/ingest/layout.h"
#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"

namespace aitdb::ingest {
namespace fs = std::filesystem;

std::optional<std::int64_t> parse_int(const std::string& s) {
  std::int64_t v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool is_tensor_file_name(const std::string& name) {
  for (const char* ext : {".bin", ".npy", ".pth", ".pt", ".safetensors"}) {
    if (name.ends_with(ext)) return true;
  }
  return is_md5_name(name);
}

bool is_aux_file_name(const std::string& name) {
  for (const char* ext : {".json", ".csv", ".txt"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

namespace {

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// '{device}_{pid}', or 'thread_{pid}' (the md5-mode ATB dump of aclcmp, formats.md §6.2).
bool is_atb_rank(const std::string& n) {
  static const std::regex r(R"(^(-?\d+|thread)_\d+$)");
  return std::regex_match(n, r);
}
bool is_torch_rank(const std::string& n) {
  static const std::regex r(R"(^[a-z]+\d*_\d+$)");
  return std::regex_match(n, r);
}

// A directory holding at least one child dir accepted by `pred`.
template <typename Pred>
bool has_child_dir(const fs::path& dir, Pred pred) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec) && pred(it->path().filename().string())) return true;
  }
  return false;
}

}  // namespace

DetectedDump detect_dump(const fs::path& input) {
  std::error_code ec;
  const auto st = fs::status(input, ec);
  if (ec || !fs::exists(st)) throw FormatError(input.string(), "no such file or directory");
  const fs::path canon = fs::canonical(input, ec);
  if (ec) throw FormatError(input.string(), "cannot resolve path: " + ec.message());
  DetectedDump d;
  if (fs::is_regular_file(st)) {
    ReadLimits unlimited;
    unlimited.max_file_size = UINT64_MAX;
    const FileFormat f = sniff_format(canon, unlimited);
    if (f == FileFormat::Unknown) {
      throw FormatError(input.string(), "not a recognised tensor file (no ATB header, npy, zip or safetensors magic)");
    }
    d.flavour = std::string(format_name(f == FileFormat::Md5Placeholder ? FileFormat::AtbBin : f));
    d.root = canon.parent_path();
    d.single_file = canon;
    d.layout = make_files_layout(d.flavour);
    return d;
  }
  if (!fs::is_directory(st)) throw FormatError(input.string(), "neither a regular file nor a directory");
  d.root = canon;
  const std::string base = canon.filename().string();
  if (is_dir(canon / "tensors")) {
    d.flavour = "atb_tree";
    d.layout = make_atb_tree_layout({"tensors"});
  } else if (is_dir(canon / "torch_tensors")) {
    d.flavour = "torch_tree";
    d.layout = make_torch_tree_layout({"torch_tensors"});
  } else if (is_dir(canon / "atb_dump_data" / "data")) {
    d.flavour = "atb_tree";
    d.layout = make_atb_tree_layout({"atb_dump_data", "data"});
  } else if (base == "tensors" || (base == "data" && has_child_dir(canon, is_atb_rank))) {
    d.flavour = "atb_tree";
    d.layout = make_atb_tree_layout({});
  } else if (base == "torch_tensors") {
    d.flavour = "torch_tree";
    d.layout = make_torch_tree_layout({});
  } else if (is_atb_rank(base)) {
    // A '{device}_{pid}' directory given directly: its name is the rank component of every path.
    d.flavour = "atb_tree";
    d.implicit_prefix = {base};
    d.layout = make_atb_tree_layout({});
  } else if (is_torch_rank(base) && fs::exists(canon / "model_tree.json")) {
    d.flavour = "torch_tree";
    d.implicit_prefix = {base};
    d.layout = make_torch_tree_layout({});
  } else {
    d.flavour = "files";
    d.layout = make_files_layout("files");
  }
  return d;
}

}  // namespace aitdb::ingest
