#include "decode_dump_generator.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace aitdb::bench {
namespace {

namespace fs = std::filesystem;
using ordered_json = nlohmann::ordered_json;

constexpr const char* kModelName = "LlamaDecodeModel";
constexpr const char* kRankDir = "0_4242";  // {device}_{pid}
constexpr const char* kPid = "4242";

struct TensorDef {
  std::string name;  // dataflow name in the topology JSON: equal names are the same tensor
  std::vector<std::int64_t> dims;
  float scale = 1.0F;
  // Linear and embedding weights are named in the topology but not dumped: they are MBs each
  // and the same in every token, while this dump is about many small activations.
  bool dumped = true;
};

struct OpNode {
  int node_id = 0;  // position in the parent graph (top level: the global ATB op id)
  std::string type;
  std::string op_name;  // "<type>_<id path>", as ATB names operations
  nlohmann::json param;  // null for graph ops (their param is "")
  std::vector<TensorDef> ins;
  std::vector<TensorDef> outs;
  std::vector<std::string> internals;
  std::vector<OpNode> children;
  // The graph nodes between a layer and its leaves (Attention, Mlp, ...) keep no files of their
  // own here; the layer and every leaf do.
  bool dump_tensors = true;
  bool diverges = false;  // the my side's outputs of this op are perturbed strongly
};

// Builds the op trees of one graph (prefill or decode) of a Llama-like model. Tensor names follow
// the probe's rules (docs/formats.md, "ATB topology JSON"): a top-level op's own in/out names are given (model
// names in the model JSON, "<op>_input_<i>" in a layer JSON), internals are "<op>_internal_<i>"
// of the graph node that holds them. Parameters are illustrative ATB-style values.
class LlamaGraph {
 public:
  LlamaGraph(const DecodeDumpSpec& spec, bool prefill)
      : spec_(spec), prefill_(prefill), rows_(prefill ? spec.prefill_seq : 1),
        first_op_id_(prefill ? 0 : spec.layers + 2) {}

  [[nodiscard]] std::string layer_type() const { return prefill_ ? "Prefill_layer" : "Decoder_layer"; }
  [[nodiscard]] int embedding_id() const { return first_op_id_; }
  [[nodiscard]] int layer_id(int layer) const { return first_op_id_ + 1 + layer; }
  [[nodiscard]] int lm_head_id() const { return first_op_id_ + spec_.layers + 1; }

  OpNode word_embedding(const std::vector<std::string>& in, const std::vector<std::string>& out) const {
    OpNode op = graph(embedding_id(), "WordEmbedding", std::to_string(embedding_id()));
    op.ins = {weight(in[0], {spec_.vocab, spec_.hidden}), undumped(in[1], {rows_})};
    op.outs = {activation(out[0], spec_.hidden, 1.0F)};
    op.dump_tensors = false;
    OpNode gather = leaf(0, "GatherOperation", op, {{"axis", 0}});
    gather.ins = op.ins;
    gather.outs = op.outs;
    op.children.push_back(std::move(gather));
    return op;
  }

  // in: hidden, norm1 w, qkv w, o w, norm2 w, gate_up w, down w; out: hidden.
  OpNode layer(int layer, const std::vector<std::string>& in, const std::vector<std::string>& out) const {
    const std::int64_t h = spec_.hidden;
    const std::int64_t inter = spec_.intermediate;
    const float scale = 1.0F + 0.05F * static_cast<float>(layer);
    OpNode op = graph(layer_id(layer), layer_type(), std::to_string(layer_id(layer)));
    op.dump_tensors = true;  // the layer's own inputs and outputs, as msit dumps them
    const TensorDef hidden_in = activation(in[0], h, scale);
    const TensorDef norm1_w = norm_weight(in[1]);
    const TensorDef norm2_w = norm_weight(in[4]);
    op.ins = {hidden_in, norm1_w, weight(in[2], {3 * h, h}), weight(in[3], {h, h}), norm2_w,
              weight(in[5], {2 * inter, h}), weight(in[6], {h, inter})};
    op.outs = {activation(out[0], h, scale)};
    const std::string& p = op.op_name;
    op.internals = {p + "_internal_0", p + "_internal_1", p + "_internal_2"};
    const TensorDef attention_out = activation(op.internals[0], h, 0.7F);
    const TensorDef residual = activation(op.internals[1], h, scale);
    const TensorDef mlp_out = activation(op.internals[2], h, 0.9F);

    OpNode attention = graph(0, "Attention", id_path(op, 0));
    attention.ins = {hidden_in, norm1_w, op.ins[2], op.ins[3]};
    attention.outs = {attention_out};
    attention.internals = {attention.op_name + "_internal_0", attention.op_name + "_internal_1"};
    const TensorDef qkv = activation(attention.internals[0], 3 * h, 1.2F);
    const TensorDef context = activation(attention.internals[1], h, 0.5F);
    {
      OpNode pack = graph(0, "QKVLinearSplitPack", id_path(attention, 0));
      pack.ins = {hidden_in, norm1_w, op.ins[2]};
      pack.outs = {qkv};
      pack.internals = {pack.op_name + "_internal_0"};
      const TensorDef normed = activation(pack.internals[0], h, 1.0F);
      pack.children.push_back(norm(0, pack, hidden_in, norm1_w, normed));
      pack.children.push_back(linear(1, pack, normed, op.ins[2], qkv));
      attention.children.push_back(std::move(pack));
    }
    const double qk_scale = 1.0 / std::sqrt(static_cast<double>(h / spec_.heads));
    OpNode attend = leaf(1, prefill_ ? "SelfAttentionOperation" : "PagedAttentionOperation", attention,
                         {{"headNum", spec_.heads}, {"kvHeadNum", spec_.heads}, {"qkScale", qk_scale}});
    attend.ins = {qkv};
    attend.outs = {context};
    attention.children.push_back(std::move(attend));
    OpNode o_proj = linear(2, attention, context, op.ins[3], attention_out);
    o_proj.diverges = layer == spec_.layers / 2;
    attention.children.push_back(std::move(o_proj));
    op.children.push_back(std::move(attention));

    op.children.push_back(add(1, op, hidden_in, attention_out, residual));

    OpNode mlp = graph(2, "Mlp", id_path(op, 2));
    mlp.ins = {residual, norm2_w, op.ins[5], op.ins[6]};
    mlp.outs = {mlp_out};
    mlp.internals = {mlp.op_name + "_internal_0", mlp.op_name + "_internal_1", mlp.op_name + "_internal_2"};
    const TensorDef normed2 = activation(mlp.internals[0], h, 1.0F);
    const TensorDef gate_up = activation(mlp.internals[1], 2 * inter, 2.0F);
    const TensorDef activated = activation(mlp.internals[2], inter, 0.3F);
    mlp.children.push_back(norm(0, mlp, residual, norm2_w, normed2));
    mlp.children.push_back(linear(1, mlp, normed2, op.ins[5], gate_up));
    OpNode swiglu = leaf(2, "ActivationOperation", mlp, {{"activationType", 6}, {"dim", -1}});
    swiglu.ins = {gate_up};
    swiglu.outs = {activated};
    mlp.children.push_back(std::move(swiglu));
    mlp.children.push_back(linear(3, mlp, activated, op.ins[6], mlp_out));
    op.children.push_back(std::move(mlp));

    op.children.push_back(add(3, op, residual, mlp_out, op.outs[0]));
    return op;
  }

  // in: hidden, lm head w; out: logits of the last position.
  OpNode lm_head(const std::vector<std::string>& in, const std::vector<std::string>& out) const {
    OpNode op = graph(lm_head_id(), "LmHead", std::to_string(lm_head_id()));
    op.ins = {TensorDef{in[0], dims({1, spec_.hidden}), 1.0F}, weight(in[1], {spec_.vocab, spec_.hidden})};
    op.outs = {TensorDef{out[0], dims({1, spec_.vocab}), 3.0F}};
    op.dump_tensors = false;
    OpNode head = linear(0, op, op.ins[0], op.ins[1], op.outs[0]);
    op.children.push_back(std::move(head));
    return op;
  }

 private:
  [[nodiscard]] std::vector<std::int64_t> dims(std::vector<std::int64_t> shape) const {
    if (spec_.tiny_elements > 0) return {spec_.tiny_elements};
    return shape;
  }
  [[nodiscard]] TensorDef activation(const std::string& name, std::int64_t width, float scale) const {
    return {name, dims({rows_, width}), scale};
  }
  [[nodiscard]] TensorDef norm_weight(const std::string& name) const { return {name, dims({spec_.hidden}), 0.1F}; }
  [[nodiscard]] static TensorDef weight(const std::string& name, std::vector<std::int64_t> shape) {
    return {name, std::move(shape), 0.02F, false};
  }
  [[nodiscard]] static TensorDef undumped(const std::string& name, std::vector<std::int64_t> shape) {
    return {name, std::move(shape), 1.0F, false};
  }
  static std::string id_path(const OpNode& parent, int node_id) {
    // "<type>_<ids>" -> "<ids>_<node_id>": the ids are everything after the type.
    return parent.op_name.substr(parent.type.size() + 1) + "_" + std::to_string(node_id);
  }
  static OpNode graph(int node_id, const std::string& type, const std::string& ids) {
    OpNode op;
    op.node_id = node_id;
    op.type = type;
    op.op_name = type + "_" + ids;
    op.dump_tensors = false;
    return op;
  }
  static OpNode leaf(int node_id, const std::string& type, const OpNode& parent, nlohmann::json param) {
    OpNode op;
    op.node_id = node_id;
    op.type = type;
    op.op_name = type + "_" + id_path(parent, node_id);
    op.param = std::move(param);
    return op;
  }
  static OpNode linear(int node_id, const OpNode& parent, const TensorDef& x, const TensorDef& w, const TensorDef& y) {
    OpNode op = leaf(node_id, "LinearOperation", parent,
                     {{"hasBias", false}, {"outDataType", -1}, {"transposeA", false}, {"transposeB", true}});
    op.ins = {x, w};
    op.outs = {y};
    return op;
  }
  static OpNode norm(int node_id, const OpNode& parent, const TensorDef& x, const TensorDef& w, const TensorDef& y) {
    OpNode op = leaf(node_id, "RmsNormOperation", parent, {{"layerType", 1}, {"normParam", {{"epsilon", 1e-6}}}});
    op.ins = {x, w};
    op.outs = {y};
    return op;
  }
  static OpNode add(int node_id, const OpNode& parent, const TensorDef& a, const TensorDef& b, const TensorDef& y) {
    OpNode op = leaf(node_id, "ElewiseOperation", parent, {{"elewiseType", 8}});
    op.ins = {a, b};
    op.outs = {y};
    return op;
  }

  const DecodeDumpSpec& spec_;
  bool prefill_;
  std::int64_t rows_;
  int first_op_id_;
};

// The top-level ops of one graph, in execution order. With model_names the tensors carry the
// model's names (model JSON); otherwise each op's own "<op>_input_<i>" names (its layer JSON).
std::vector<OpNode> top_level_ops(const DecodeDumpSpec& spec, bool prefill, bool model_names) {
  const LlamaGraph g(spec, prefill);
  const std::string m = kModelName;
  const auto model = [&](const char* kind, int i) { return m + "_" + kind + "_" + std::to_string(i); };
  const auto own = [&](const std::string& type, int id, std::size_t ins, std::size_t outs) {
    std::pair<std::vector<std::string>, std::vector<std::string>> names;
    const std::string op = type + "_" + std::to_string(id);
    for (std::size_t i = 0; i < ins; ++i) names.first.push_back(op + "_input_" + std::to_string(i));
    for (std::size_t i = 0; i < outs; ++i) names.second.push_back(op + "_output_" + std::to_string(i));
    return names;
  };
  std::vector<OpNode> ops;
  if (model_names) {
    ops.push_back(g.word_embedding({model("weight", 0), model("input", 0)}, {model("internal", 0)}));
  } else {
    const auto [in, out] = own("WordEmbedding", g.embedding_id(), 2, 1);
    ops.push_back(g.word_embedding(in, out));
  }
  for (int l = 0; l < spec.layers; ++l) {
    if (model_names) {
      std::vector<std::string> in{model("internal", l)};
      for (int w = 0; w < 6; ++w) in.push_back(model("weight", 1 + 6 * l + w));
      ops.push_back(g.layer(l, in, {model("internal", l + 1)}));
    } else {
      const auto [in, out] = own(g.layer_type(), g.layer_id(l), 7, 1);
      ops.push_back(g.layer(l, in, out));
    }
  }
  if (model_names) {
    ops.push_back(g.lm_head({model("internal", spec.layers), model("weight", 1 + 6 * spec.layers)}, {model("output", 0)}));
  } else {
    const auto [in, out] = own("LmHead", g.lm_head_id(), 2, 1);
    ops.push_back(g.lm_head(in, out));
  }
  return ops;
}

std::vector<std::string> names_of(const std::vector<TensorDef>& tensors) {
  std::vector<std::string> names;
  names.reserve(tensors.size());
  for (const auto& t : tensors) names.push_back(t.name);
  return names;
}

// Layer JSON node (docs/formats.md, "ATB topology JSON"), keys in the probe's order.
ordered_json layer_json(const OpNode& op) {
  ordered_json j;
  j["opName"] = op.op_name;
  j["opType"] = op.type;
  j["param"] = op.param.is_null() ? ordered_json("") : ordered_json::parse(op.param.dump());
  j["inTensors"] = names_of(op.ins);
  j["outTensors"] = names_of(op.outs);
  if (!op.internals.empty()) j["internalTensors"] = op.internals;
  if (!op.children.empty()) {
    j["nodes"] = ordered_json::array();
    for (const auto& c : op.children) j["nodes"].push_back(layer_json(c));
  }
  return j;
}

// Model JSON (docs/formats.md, "ATB topology JSON"): ATB-models' keys sorted, each node as the probe merges it.
ordered_json model_json(const DecodeDumpSpec& spec, const std::vector<OpNode>& ops) {
  const std::string m = kModelName;
  const auto list = [&](const char* kind, int n) {
    std::vector<std::string> v;
    for (int i = 0; i < n; ++i) v.push_back(m + "_" + kind + "_" + std::to_string(i));
    return v;
  };
  ordered_json j;
  j["inTensors"] = list("input", 2);
  j["internalTensors"] = list("internal", spec.layers + 1);
  j["kCacheTensors"] = list("kCache", spec.layers);
  j["modelName"] = m;
  j["nodes"] = ordered_json::array();
  for (const auto& op : ops) {
    ordered_json n;
    n["inTensors"] = names_of(op.ins);
    n["opName"] = op.op_name;
    n["outTensors"] = names_of(op.outs);
    n["opType"] = op.type;
    if (!op.internals.empty()) n["internalTensors"] = op.internals;
    n["nodes"] = ordered_json::array();
    for (const auto& c : op.children) n["nodes"].push_back(layer_json(c));
    j["nodes"].push_back(std::move(n));
  }
  j["outTensors"] = list("output", 1);
  j["vCacheTensors"] = list("vCache", spec.layers);
  j["weightTensors"] = list("weight", 2 + 6 * spec.layers);
  return j;
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

void write_topology(const fs::path& root, const DecodeDumpSpec& spec) {
  write_text(root / "model" / kPid / (std::string(kModelName) + ".json"),
             model_json(spec, top_level_ops(spec, false, true)).dump() + "\n");
  for (const bool prefill : {true, false}) {
    for (const auto& op : top_level_ops(spec, prefill, false)) {
      write_text(root / "layer" / kPid / (op.op_name + ".json"), layer_json(op).dump() + "\n");
    }
  }
}

class OpTreeWriter {
 public:
  OpTreeWriter(AtbTensorWriter& tensors, float divergence) : tensors_(tensors), divergence_(divergence) {}

  void write(const fs::path& parent, const OpNode& op) {
    const fs::path dir = parent / (std::to_string(op.node_id) + "_" + op.type);
    if (op.dump_tensors) {
      for (std::size_t i = 0; i < op.ins.size(); ++i) {
        if (op.ins[i].dumped) one(dir / "before" / ("intensor" + std::to_string(i) + ".bin"), op.ins[i], false);
      }
      for (std::size_t i = 0; i < op.outs.size(); ++i) {
        one(dir / "after" / ("outtensor" + std::to_string(i) + ".bin"), op.outs[i], op.diverges);
      }
    }
    if (!op.param.is_null()) write_text(dir / "op_param.json", op.param.dump() + "\n");  // keys sorted, as the probe
    for (const auto& c : op.children) write(dir, c);
  }

 private:
  void one(const fs::path& path, const TensorDef& t, bool diverges) {
    if (diverges && divergence_ != 0) {
      tensors_.tensor(path, AtbDtype::F16, t.dims, t.scale, divergence_);
    } else {
      tensors_.tensor(path, AtbDtype::F16, t.dims, t.scale);
    }
  }

  AtbTensorWriter& tensors_;
  float divergence_;
};

int count_files(const OpNode& op) {
  int n = 0;
  if (op.dump_tensors) {
    for (const auto& t : op.ins) n += t.dumped ? 1 : 0;
    n += static_cast<int>(op.outs.size());
  }
  for (const auto& c : op.children) n += count_files(c);
  return n;
}

std::string diverged_path(const OpNode& op) {
  for (const auto& c : op.children) {
    if (c.diverges) return std::to_string(c.node_id) + "_" + c.type;
    const std::string below = diverged_path(c);
    if (!below.empty()) return std::to_string(c.node_id) + "_" + c.type + "/" + below;
  }
  return {};
}

DumpStats write_side(const fs::path& out, const DecodeDumpSpec& spec, float noise, float divergence,
                     const std::vector<OpNode>& prefill, const std::vector<OpNode>& decode) {
  DumpStats stats;
  AtbTensorWriter tensors(spec.seed, noise, stats);
  OpTreeWriter ops(tensors, divergence);
  const fs::path root = dump_root(out);
  const fs::path rank = root / "tensors" / kRankDir;
  for (int token = 0; token <= spec.decode_tokens; ++token) {
    for (const auto& op : token == 0 ? prefill : decode) ops.write(rank / std::to_string(token), op);
  }
  write_topology(root, spec);
  return stats;
}

}  // namespace

int decode_files_per_token(const DecodeDumpSpec& spec) {
  int n = 0;
  for (const auto& op : top_level_ops(spec, false, false)) n += count_files(op);
  return n;
}

DecodePairStats write_decode_dump_pair(const fs::path& out, const DecodeDumpSpec& spec) {
  const auto prefill = top_level_ops(spec, true, false);
  const auto decode = top_level_ops(spec, false, false);
  DecodePairStats stats;
  stats.golden = write_side(out / "golden", spec, 0.0F, 0.0F, prefill, decode);
  stats.my = write_side(out / "my", spec, spec.noise, spec.divergence, prefill, decode);
  for (const auto& op : decode) {
    const std::string below = diverged_path(op);
    if (!below.empty()) stats.diverged_op = std::to_string(op.node_id) + "_" + op.type + "/" + below;
  }
  return stats;
}

}  // namespace aitdb::bench
