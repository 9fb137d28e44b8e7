#pragma once
// The GE graph text torchair writes beside a GE dump (dynamo_original_graph_*.txt): protobuf text
// format of a GE GraphDef (docs/formats_graph_mode.md §2). It gives the graph order of ops, their
// producers, and per output the FX tensor it came from (_fx_tensor_name), which joins GE to FX.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"

namespace aitdb::ingest {

struct PbTextField;

// One message of protobuf text: fields in file order. Repeated keys stay separate entries, so
// nothing is overwritten (msit's parser renames them key#1, key#2, …; msit_key() gives that name).
struct PbTextMessage {
  std::vector<PbTextField> fields;

  [[nodiscard]] const PbTextField* find(std::string_view key) const;  // first field with that key
  [[nodiscard]] std::vector<const PbTextField*> all(std::string_view key) const;
  [[nodiscard]] std::optional<std::string> scalar(std::string_view key) const;  // first scalar value
  [[nodiscard]] std::string msit_key(std::size_t i) const;
};

struct PbTextField {
  std::string key;
  bool is_message = false;
  std::string value;      // scalars: unquoted, unescaped text ("DT_FLOAT16", "2", "Add_2:0")
  PbTextMessage message;  // is_message only
};

// Parses protobuf text (a sequence of fields). Lines longer than 1 MiB, nesting deeper than 64
// and anything that is not text format → FormatError(display_path, reason).
PbTextMessage parse_pb_text(std::string_view text, const std::string& display_path);

// "producer:index"; index is -1 for control edges, nullopt when the text has no ":index".
struct GeOpInput {
  std::string producer;
  std::optional<std::int64_t> index;
};

struct GeAttr {
  std::string key;
  PbTextMessage value;  // the AttrValue: { s: "…" } / { i: 3 } / { list { … } } …
  // The value when it is a single scalar (s, i, f, b, type), else nullopt.
  [[nodiscard]] std::optional<std::string> scalar() const;
};

struct GeTensorDescText {
  std::string name;
  std::string dtype;   // "DT_FLOAT16"
  std::string layout;  // "ND"
  std::vector<std::int64_t> shape;
  std::vector<GeAttr> attrs;
  std::optional<std::string> fx_tensor_name;  // "add_1-aten.add.Tensor.OUTPUT.0"
};

struct GeGraphOp {
  std::string name;
  std::string type;
  std::vector<GeOpInput> inputs;
  std::vector<GeAttr> attrs;
  std::vector<GeTensorDescText> input_descs;
  std::vector<GeTensorDescText> output_descs;  // every one of them, in order
};

struct GeGraph {
  std::string name;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  std::vector<GeGraphOp> ops;  // graph order
};

GeGraph parse_ge_graph_text(std::string_view text, const std::string& display_path);
GeGraph read_ge_graph_text(const std::filesystem::path& path, const ReadLimits& limits);

}  // namespace aitdb::ingest
