// FX dump tree (docs/formats_graph_mode.md §3.1): one .npy per argument or output of an FX node
// call. The op key is "{node}-{aten op}", the join key with GE's _fx_tensor_name.
#include <nlohmann/json.hpp>

#include "aitdb/ingest/fx_dump.h"
#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {
namespace {

class FxTreeLayout : public DumpLayout {
 public:
  explicit FxTreeLayout(std::vector<std::string> prefix) : prefix_(std::move(prefix)) {}

  [[nodiscard]] Classified classify(const std::vector<std::string>& rel) const override {
    Classified out;
    const std::string& file = rel.back();
    out.role = is_aux_file_name(file) ? FileRole::Aux : FileRole::Other;
    if (rel.size() <= prefix_.size() || !std::equal(prefix_.begin(), prefix_.end(), rel.begin())) return out;
    const std::vector<std::string> c(rel.begin() + static_cast<std::ptrdiff_t>(prefix_.size()), rel.end());
    std::optional<FxDumpName> name;
    TensorPlace& p = out.place;
    if (auto path = parse_fx_dump_path(c)) {
      if (path->rank_folder) p.rank_key = path->rank_folder->name;
      p.token = path->token;
      p.graph = path->model;
      name = std::move(path->name);
    } else {
      name = parse_fx_dump_name(file);  // an FX file off the documented layout: no token
    }
    if (!name) {
      if (is_tensor_file_name(file)) out.role = FileRole::Tensor;
      return out;
    }
    p.op_path = name->key;
    p.op_names = nlohmann::json::array({name->node}).dump();
    p.op_type = name->target;
    p.io = name->is_input ? "in" : "out";
    p.io_index = name->index;
    p.io_subindex = name->subindex;
    out.role = FileRole::Tensor;
    return out;
  }

 private:
  std::vector<std::string> prefix_;
};

}  // namespace

std::unique_ptr<DumpLayout> make_fx_tree_layout(std::vector<std::string> prefix) {
  return std::make_unique<FxTreeLayout>(std::move(prefix));
}

}  // namespace aitdb::ingest
