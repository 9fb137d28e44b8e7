// ATB dump tree (docs/formats.md, "ATB dump tree"): [tensors/]{device}_{pid}/{executeCount}/{id}_{Name}/.../
// {before|after}/{intensor|outtensor}{i}[_{irName}].bin, plus op_param.json per op directory.
#include <nlohmann/json.hpp>
#include <regex>

#include "aitdb/ingest/layout.h"
#include "aitdb/ingest/readers.h"

namespace aitdb::ingest {
namespace {

struct OpComponent {
  std::string id;
  std::string name;
};

// '{id}_{Name}': id = text before the first '_', name = the rest (names may contain '_').
std::optional<OpComponent> split_op(const std::string& c) {
  const auto us = c.find('_');
  if (us == std::string::npos || us == 0) return std::nullopt;
  const std::string id = c.substr(0, us);
  if (!parse_int(id)) return std::nullopt;
  return OpComponent{id, c.substr(us + 1)};
}

class AtbTreeLayout : public DumpLayout {
 public:
  explicit AtbTreeLayout(std::vector<std::string> prefix) : prefix_(std::move(prefix)) {}

  [[nodiscard]] Classified classify(const std::vector<std::string>& rel) const override {
    Classified out;
    const std::string& file = rel.back();
    // Strip the prefix that leads to the rank directories ("tensors" or "data").
    if (rel.size() < prefix_.size() || !std::equal(prefix_.begin(), prefix_.end(), rel.begin())) {
      out.role = role_outside(file);
      return out;
    }
    const std::vector<std::string> c(rel.begin() + static_cast<std::ptrdiff_t>(prefix_.size()), rel.end());
    // c = rank, token, op..., [phase], file
    if (c.size() < 4) {
      out.role = role_outside(file);
      return out;
    }
    const std::string& rank = c[0];
    const auto us_first = rank.find('_');
    const auto us_last = rank.rfind('_');
    std::optional<std::int64_t> device;
    std::optional<std::int64_t> pid;
    if (us_first != std::string::npos) {
      device = parse_int(rank.substr(0, us_first));
      pid = parse_int(rank.substr(us_last + 1));
    }
    const auto token = parse_int(c[1]);
    const bool in_phase = c.size() >= 5 && (c[c.size() - 2] == "before" || c[c.size() - 2] == "after");
    const std::size_t op_end = in_phase ? c.size() - 2 : c.size() - 1;
    std::vector<OpComponent> ops;
    for (std::size_t i = 2; i < op_end; ++i) {
      auto op = split_op(c[i]);
      if (!op) {
        out.role = is_tensor_file_name(file) ? FileRole::Tensor : role_outside(file);
        out.place.op_path = join_rel(rel);
        return out;
      }
      ops.push_back(std::move(*op));
    }
    if (ops.empty()) {
      out.role = role_outside(file);
      return out;
    }
    OpNodeRow node;
    node.kind = "op";
    node.rank_key = rank;
    node.folder = c[1];
    nlohmann::json names = nlohmann::json::array();
    for (std::size_t i = 0; i < ops.size(); ++i) {
      if (i != 0) node.id_path += "_";
      node.id_path += ops[i].id;
      names.push_back(ops[i].name);
    }
    node.names = names.dump();
    node.name = ops.back().name;
    node.type = ops.back().name;
    node.depth = static_cast<std::int64_t>(ops.size());
    node.sibling_pos = parse_int(ops.back().id);
    if (!in_phase) {
      out.role = file == "op_param.json" ? FileRole::OpParam : role_outside(file);
      if (out.role == FileRole::OpParam) out.node = node;
      return out;
    }
    TensorPlace& p = out.place;
    p.rank_key = rank;
    p.device_id = device;
    p.pid = pid;
    p.token = token;
    p.op_path = node.id_path;
    p.op_names = node.names;
    p.op_type = node.type;
    p.phase = c[c.size() - 2];
    static const std::regex kTensorName(R"(^(intensor|outtensor|inTensor|outTensor)(\d+)(?:_(.*))?\.bin$)");
    std::smatch m;
    if (std::regex_match(file, m, kTensorName)) {
      p.io = (m[1] == "intensor" || m[1] == "inTensor") ? "in" : "out";
      p.io_index = parse_int(m[2]);
      if (m[3].matched) p.io_name = m[3].str();
    } else if (is_md5_name(file)) {
      p.io = "in";  // MD5 placeholders stand where intensor files would (docs/formats.md, "ATB dump tree")
    } else if (!is_tensor_file_name(file)) {
      out.role = role_outside(file);
      return out;
    }
    out.role = FileRole::Tensor;
    out.node = std::move(node);
    return out;
  }

 private:
  static FileRole role_outside(const std::string& file) {
    return is_aux_file_name(file) ? FileRole::Aux : FileRole::Other;
  }
  static std::string join_rel(const std::vector<std::string>& rel) {
    std::string s;
    for (const auto& c : rel) s += (s.empty() ? "" : "/") + c;
    return s;
  }
  std::vector<std::string> prefix_;
};

}  // namespace

std::unique_ptr<DumpLayout> make_atb_tree_layout(std::vector<std::string> prefix) {
  return std::make_unique<AtbTreeLayout>(std::move(prefix));
}

}  // namespace aitdb::ingest
