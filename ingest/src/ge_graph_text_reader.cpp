// GE graph text (dynamo_original_graph_*.txt) → ops in graph order. Every output_desc is kept:
// msit's dict-based parser keeps only the last one with an _fx_tensor_name, which drops the FX
// names of all but one output of multi-output ops.
#include "aitdb/ingest/ge_graph_text.h"
#include "aitdb/ingest/layout.h"
#include "aitdb/schema/errors.h"
#include "file_io.h"

namespace aitdb::ingest {
namespace {

class GraphBuilder {
 public:
  explicit GraphBuilder(const std::string& path) : path_(path) {}

  GeGraph build(const PbTextMessage& top) {
    // A ModelDef wraps the GraphDef in `graph { … }`; torchair writes the GraphDef itself.
    const PbTextMessage* g = &top;
    if (top.find("op") == nullptr) {
      if (const auto* wrapped = top.find("graph"); wrapped != nullptr && wrapped->is_message) g = &wrapped->message;
    }
    GeGraph graph;
    graph.name = g->scalar("name").value_or("");
    for (const auto& f : g->fields) {
      if (f.key == "input" && !f.is_message) graph.inputs.push_back(f.value);
      if (f.key == "output" && !f.is_message) graph.outputs.push_back(f.value);
      if (f.key == "op") graph.ops.push_back(op(message_of(f), graph.ops.size()));
    }
    return graph;
  }

 private:
  [[noreturn]] void fail(const std::string& why) const { throw FormatError(path_, "graph text: " + why); }

  const PbTextMessage& message_of(const PbTextField& f) const {
    if (!f.is_message) fail("'" + f.key + "' should be a { … } block but is '" + f.value + "'");
    return f.message;
  }

  GeGraphOp op(const PbTextMessage& m, std::size_t position) const {
    GeGraphOp o;
    o.name = m.scalar("name").value_or("");
    if (o.name.empty()) fail("op " + std::to_string(position) + " has no name");
    o.type = m.scalar("type").value_or("");
    for (const auto& f : m.fields) {
      if (f.key == "input" && !f.is_message) o.inputs.push_back(input(f.value));
      if (f.key == "attr") o.attrs.push_back(attr(message_of(f)));
      if (f.key == "input_desc") o.input_descs.push_back(desc(message_of(f)));
      if (f.key == "output_desc") o.output_descs.push_back(desc(message_of(f)));
    }
    return o;
  }

  static GeOpInput input(const std::string& text) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return {text, std::nullopt};
    return {text.substr(0, colon), parse_int(text.substr(colon + 1))};
  }

  GeAttr attr(const PbTextMessage& m) const {
    GeAttr a;
    a.key = m.scalar("key").value_or("");
    if (const auto* v = m.find("value")) a.value = message_of(*v);
    return a;
  }

  GeTensorDescText desc(const PbTextMessage& m) const {
    GeTensorDescText d;
    d.name = m.scalar("name").value_or("");
    d.dtype = m.scalar("dtype").value_or("");
    d.layout = m.scalar("layout").value_or("");
    if (const auto* shape = m.find("shape")) {
      for (const auto* dim : message_of(*shape).all("dim")) {
        const auto v = parse_int(dim->value);
        if (dim->is_message || !v) fail("shape dim '" + dim->value + "' is not an integer");
        d.shape.push_back(*v);
      }
    }
    for (const auto* f : m.all("attr")) {
      d.attrs.push_back(attr(message_of(*f)));
      if (d.attrs.back().key == "_fx_tensor_name") d.fx_tensor_name = d.attrs.back().value.scalar("s");
    }
    return d;
  }

  const std::string& path_;
};

}  // namespace

std::optional<std::string> GeAttr::scalar() const {
  if (value.fields.size() != 1 || value.fields[0].is_message) return std::nullopt;
  return value.fields[0].value;
}

GeGraph parse_ge_graph_text(std::string_view text, const std::string& display_path) {
  return GraphBuilder(display_path).build(parse_pb_text(text, display_path));
}

GeGraph read_ge_graph_text(const std::filesystem::path& path, const ReadLimits& limits) {
  const InputFile f(path, limits);
  const std::string text = f.read_string(0, static_cast<std::size_t>(f.size()));
  return parse_ge_graph_text(text, f.name());
}

}  // namespace aitdb::ingest
