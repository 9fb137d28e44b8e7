#pragma once
// A dump layout maps a file's path inside a dump root to what the path says about the tensor
// (rank, token, operation, in/out, index) and to the file's role. One subclass per tree flavour.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aitdb/schema/ingest_transaction.h"

namespace aitdb::ingest {

struct TensorPlace {
  std::optional<std::string> rank_key;
  std::optional<std::int64_t> device_id;
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> token;
  std::optional<std::string> op_path;
  std::optional<std::string> op_names;  // JSON array
  std::optional<std::string> op_type;
  std::optional<std::string> phase;
  std::optional<std::string> io;
  std::optional<std::int64_t> io_index;
  std::optional<std::int64_t> io_subindex;
  std::optional<std::string> io_name;
  // Graph-mode dumps: the compiled graph a file belongs to (GE "{model_name}/{model_id}", FX model dir).
  std::optional<std::string> graph;
};

enum class FileRole {
  Tensor,   // read with the tensor readers
  OpParam,  // op_param.json of an ATB op directory
  Aux,      // small text side file kept verbatim (topology JSON, csv, model_tree.json)
  Other,    // recorded in `files` only
};

struct Classified {
  FileRole role = FileRole::Other;
  TensorPlace place;
  // The op-graph node the file belongs to (its tensors reference it; an op_param.json sets its
  // param). Every tensor file of a structured tree has one; loose files are their own node.
  std::optional<OpNodeRow> node;
};

class DumpLayout {
 public:
  virtual ~DumpLayout() = default;
  // rel: path components relative to the run root.
  [[nodiscard]] virtual Classified classify(const std::vector<std::string>& rel) const = 0;
};

// Which directories below a dump root one run walks (paths relative to the root, '/'-joined).
struct WalkScope {
  // Subtrees that belong to another run found beside or inside this one.
  std::vector<std::string> excluded;
  // A path inside the dump (msit's `-gp .../tensors/0_35570/2/`): inside `kept_within` (the
  // tensor tree; "" = the whole root) only `kept`, its ancestors and its subtree are walked;
  // everything outside the tensor tree (topology JSON, csv side files) is kept.
  std::optional<std::string> kept;
  std::string kept_within;
  [[nodiscard]] bool skips(const std::string& rel_dir) const;
  [[nodiscard]] bool empty() const { return excluded.empty() && !kept; }
};

struct DetectedDump {
  std::string name;  // default run name (docs/discovery.md)
  std::string flavour;
  std::filesystem::path root;                      // canonical directory that rel paths are relative to
  std::optional<std::filesystem::path> single_file;  // set for one-file runs
  // Components prepended to every rel path before classify(): the rank directory's own name when
  // a '{device}_{pid}' directory is given directly.
  std::vector<std::string> implicit_prefix;
  std::unique_ptr<DumpLayout> layout;
  WalkScope scope;
};

// Shared helpers for layouts.
bool is_tensor_file_name(const std::string& name);
bool is_aux_file_name(const std::string& name);
std::optional<std::int64_t> parse_int(const std::string& s);

std::unique_ptr<DumpLayout> make_atb_tree_layout(std::vector<std::string> prefix);
std::unique_ptr<DumpLayout> make_torch_tree_layout(std::vector<std::string> prefix);
std::unique_ptr<DumpLayout> make_files_layout();
// GE graph-mode dump tree (docs/formats_graph_mode.md §1.1) and FX dump tree (§3.1). rel paths
// must start with `prefix` (stripped); a leading msit_ge_dump / msit_fx_dump is optional after it.
std::unique_ptr<DumpLayout> make_ge_tree_layout(std::vector<std::string> prefix);
std::unique_ptr<DumpLayout> make_fx_tree_layout(std::vector<std::string> prefix);

}  // namespace aitdb::ingest
