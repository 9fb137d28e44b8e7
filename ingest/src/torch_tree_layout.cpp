// Torch golden dump tree (docs/formats.md): [torch_tensors/]{device}_{pid}/{token}/{module}/
// input_{i}[_{j}].pth | output.pth | output_{i}[_{j}].pth, and weights/root.{param}.pth.
#include <algorithm>
#include <regex>

#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {
namespace {

class TorchTreeLayout : public DumpLayout {
 public:
  explicit TorchTreeLayout(std::vector<std::string> prefix) : prefix_(std::move(prefix)) {}

  [[nodiscard]] Classified classify(const std::vector<std::string>& rel) const override {
    Classified out;
    const std::string& file = rel.back();
    out.role = is_aux_file_name(file) ? FileRole::Aux : FileRole::Other;
    if (rel.size() < prefix_.size() || !std::equal(prefix_.begin(), prefix_.end(), rel.begin())) return out;
    const std::vector<std::string> c(rel.begin() + static_cast<std::ptrdiff_t>(prefix_.size()), rel.end());
    if (c.size() < 3) return out;
    TensorPlace& p = out.place;
    // '{device}_{pid}': device like npu0 / cuda1 / cpu; pid after the last '_'.
    const std::string& rank = c[0];
    p.rank_key = rank;
    const auto us = rank.rfind('_');
    if (us != std::string::npos) {
      p.pid = parse_int(rank.substr(us + 1));
      const std::string dev = rank.substr(0, us);
      std::size_t d = dev.size();
      while (d > 0 && std::isdigit(static_cast<unsigned char>(dev[d - 1])) != 0) --d;
      p.device_id = d < dev.size() ? parse_int(dev.substr(d)) : std::optional<std::int64_t>(-1);
    }
    if (c.size() == 3 && c[1] == "weights" && file.size() > 4 && file.ends_with(".pth")) {
      p.io = "weight";
      p.op_path = file.substr(0, file.size() - 4);
      out.role = FileRole::Tensor;
      out.node = OpNodeRow::of("weight", rank, "", *p.op_path);
      return out;
    }
    if (c.size() != 4) {
      if (is_tensor_file_name(file)) out.role = FileRole::Tensor;
      return out;
    }
    p.token = parse_int(c[1]);
    p.op_path = c[2];
    static const std::regex kName(R"(^(input|output)(?:_(\d+))?(?:_(\d+))?\.(pth|pt|npy)$)");
    std::smatch m;
    if (!std::regex_match(file, m, kName)) {
      if (is_tensor_file_name(file)) out.role = FileRole::Tensor;
      return out;
    }
    p.io = m[1] == "input" ? "in" : "out";
    p.io_index = m[2].matched ? parse_int(m[2]) : std::optional<std::int64_t>(0);
    if (m[3].matched) p.io_subindex = parse_int(m[3]);
    out.role = FileRole::Tensor;
    // Parents, types and order come from model_tree.json when the run is finalised.
    out.node = OpNodeRow::of("module", rank, c[1], c[2]);
    out.node->depth = static_cast<std::int64_t>(std::count(c[2].begin(), c[2].end(), '.') + 1);
    return out;
  }

 private:
  std::vector<std::string> prefix_;
};

}  // namespace

std::unique_ptr<DumpLayout> make_torch_tree_layout(std::vector<std::string> prefix) {
  return std::make_unique<TorchTreeLayout>(std::move(prefix));
}

}  // namespace aitdb::ingest
