// GE graph-mode dump tree (docs/formats_graph_mode.md §1.1). One file holds every input and
// output of one op execution, so classify() places the file (rank, device, token, graph, op) and
// ge_tensor_place() adds io and index per tensor once the reader has decoded it.
#include <nlohmann/json.hpp>

#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {
namespace {

class GeTreeLayout : public DumpLayout {
 public:
  explicit GeTreeLayout(std::vector<std::string> prefix) : prefix_(std::move(prefix)) {}

  [[nodiscard]] Classified classify(const std::vector<std::string>& rel) const override {
    Classified out;
    const std::string& file = rel.back();
    out.role = is_aux_file_name(file) ? FileRole::Aux : FileRole::Other;  // graph text, stats csv
    if (rel.size() <= prefix_.size() || !std::equal(prefix_.begin(), prefix_.end(), rel.begin())) return out;
    const std::vector<std::string> c(rel.begin() + static_cast<std::ptrdiff_t>(prefix_.size()), rel.end());
    const auto name = parse_ge_dump_name(file);
    if (!name) return out;
    TensorPlace& p = out.place;
    if (const auto path = parse_ge_dump_path(c)) {
      if (path->rank_folder) p.rank_key = path->rank_folder->name;
      p.device_id = path->device_id;
      p.token = path->token;
      p.graph = path->model_name + "/" + std::to_string(path->model_id);
    } else if (c.size() >= 2) {
      // Off the documented layout: msit still treats the parent directory as the token (0 if not a number).
      p.token = parse_int(c[c.size() - 2]).value_or(0);
    } else {
      p.token = 0;
    }
    p.op_path = name->op_name;
    p.op_names = nlohmann::json::array({name->op_name}).dump();
    p.op_type = name->op_type;
    // GE ops are flat: one node per op name; the graph text gives their order.
    out.node = OpNodeRow::of("op", p.rank_key.value_or(""), std::to_string(*p.token), *p.op_path);
    out.node->names = *p.op_names;
    out.node->type = *p.op_type;
    out.role = FileRole::Tensor;
    return out;
  }

 private:
  std::vector<std::string> prefix_;
};

}  // namespace

TensorPlace ge_tensor_place(TensorPlace file_place, const GeDumpTensor& t) {
  file_place.io = t.is_input ? "in" : "out";
  file_place.io_index = t.index;
  return file_place;
}

std::unique_ptr<DumpLayout> make_ge_tree_layout(std::vector<std::string> prefix) {
  return std::make_unique<GeTreeLayout>(std::move(prefix));
}

}  // namespace aitdb::ingest
