// Writes a seed corpus of valid files, one folder per fuzz target: make_seed_corpus OUTDIR.
// Seeds come from the test writers (tests/support/format_writers.h), so the fuzzers start from
// inputs that reach every reader's success path rather than from its first refusal.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "format_writers.h"

namespace fs = std::filesystem;
using aitdb::test::SafetensorsEntry;

namespace {

template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& v) {
  std::vector<std::byte> out(v.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

std::vector<std::byte> iota_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<std::byte>(i * 37U + 1U);
  return v;
}

void write(const fs::path& dir, const std::string& name, const std::string& content) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

// {"a": [1, 2.5], "b": None} in protocol 2, with memo puts and gets. Literals are split where a
// hex escape would otherwise swallow the next character.
constexpr char kContainersPickle[] =
    "\x80\x02}q\x00(X\x01\x00\x00\x00"
    "a"
    "q\x01]q\x02(K\x01G@\x04\x00\x00\x00\x00\x00\x00"
    "e"
    "X\x01\x00\x00\x00"
    "b"
    "Nh\x01h\x02u.";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_seed_corpus OUTDIR\n";
    return 2;
  }
  const fs::path out = argv[1];
  namespace t = aitdb::test;
  const std::vector<std::pair<std::string, std::string>> atb = {
      {"f32_2x3.bin", t::atb_bin(0, {2, 3}, bytes_of(std::vector<float>{0, 1, 2, 3, 4, 5}))},
      {"f16_nz.bin", t::atb_bin(1, {1, 2, 2}, iota_bytes(8), 29)},
      {"bf16.bin", t::atb_bin(27, {4}, iota_bytes(8))},
      {"bool_scalar.bin", t::atb_bin(12, {}, {std::byte{1}})},
      {"minimal.bin", t::atb_bin_minimal(3, {2}, bytes_of(std::vector<std::int32_t>{7, -7}))},
      {"stats.bin", t::atb_bin_stats(0, {8, 8}, "1.5", "-2", "0.25", "3.75")},
      {"appended.bin",
       t::atb_bin(0, {1}, bytes_of(std::vector<float>{1})) + t::atb_bin(0, {1}, bytes_of(std::vector<float>{2}))},
      {"alias.bin",
       "$Version=1.0\n$Object.Count=0\n$Object.Length=0\nformat=2\ndtype=1\ndims=2,2\ndata=../0_x/"
       "outtensor0.bin\n$End=1\n"},
  };
  const std::vector<std::pair<std::string, std::string>> npy = {
      {"f4_2x3.npy", t::npy("<f4", {2, 3}, bytes_of(std::vector<float>{0, 1, 2, 3, 4, 5}))},
      {"fortran.npy", t::npy("<i2", {2, 3}, iota_bytes(12), true)},
      {"big.npy", t::npy(">i4", {2}, iota_bytes(8))},
      {"c8.npy", t::npy("<c8", {1}, iota_bytes(8))},
      {"bool.npy", t::npy("|b1", {3}, {std::byte{0}, std::byte{1}, std::byte{1}})},
      {"scalar.npy", t::npy("<f8", {}, iota_bytes(8))},
      {"empty.npy", t::npy("<u1", {0, 4}, {})},
  };
  const std::vector<std::pair<std::string, std::string>> safetensors = {
      {"two.safetensors", t::safetensors({{"w", "F32", {2, 2}, bytes_of(std::vector<float>{1, 2, 3, 4})},
                                          {"b", "BF16", {2}, iota_bytes(4)}})},
      {"int.safetensors", t::safetensors({{"ids", "I64", {3}, iota_bytes(24)}, {"mask", "BOOL", {3}, iota_bytes(3)}})},
      {"empty_tensor.safetensors", t::safetensors({{"e", "F16", {0}, {}}})},
  };
  std::vector<std::pair<std::string, std::string>> pth = {
      {"f32.pth", t::pth("FloatStorage", 4, {2, 3}, bytes_of(std::vector<float>{0, 1, 2, 3, 4, 5}))},
      {"bf16.pth", t::pth("BFloat16Storage", 2, {4}, iota_bytes(8))},
      {"i64_scalar.pth", t::pth("LongStorage", 8, {}, iota_bytes(8))},
  };
  // A view: rows 1.. and columns 1..2 of a 3x4 base, so offsets and strides are exercised.
  const std::string view_pickle = t::torch_tensor_pickle("HalfStorage", 12, 5, {2, 2}, {4, 1});
  const auto view_pickle_bytes =
      std::vector<std::byte>(reinterpret_cast<const std::byte*>(view_pickle.data()),
                             reinterpret_cast<const std::byte*>(view_pickle.data()) + view_pickle.size());
  pth.emplace_back("view.pth", t::zip_archive({{"view/data.pkl", view_pickle_bytes},
                                               {"view/data/0", iota_bytes(24)},
                                               {"view/byteorder",
                                                {std::byte{'l'}, std::byte{'i'}, std::byte{'t'}, std::byte{'t'},
                                                 std::byte{'l'}, std::byte{'e'}}},
                                               {"view/version", {std::byte{'3'}, std::byte{'\n'}}}}));
  const std::vector<std::pair<std::string, std::string>> pickles = {
      {"tensor.pkl", t::torch_tensor_pickle("FloatStorage", 6, 0, {2, 3}, {3, 1})},
      {"view.pkl", view_pickle},
      {"containers.pkl", std::string(kContainersPickle, sizeof kContainersPickle - 1)},
  };
  const std::vector<std::pair<std::string, std::string>> labels = {
      {"msit.json", R"({"0": {"0": ["golden/0_a.npy", "my/0_a.npy"], "1": ["g/1.npy", "m/1.npy"]}})"},
      {"aclcmp.json", R"({"3": {"0": "acl_tensor/3.bin", "1": ["acl_tensor/3_1.bin"]}})"},
  };
  const std::string op_io_header =
      "CaseNum|CaseName|OpName|OpParam|InNum|InDType|InFormat|InShape|OutNum|OutDType|OutFormat|OutShape|"
      "DataGenType|DataGenRange|InTensorFile|OutTensorFile|TestType|TestLevel|FromModel|SocVersion|ExpectedError\n";
  const std::vector<std::pair<std::string, std::string>> op_io = {
      {"operation.csv",
       op_io_header + "1|SplitOperation_2_0_31|SplitOperation_2_0_3|{\"splitDim\":-1,\"splitNum\":2}|1|float16|nd|"
                      "4,8|2|float16;float16|nd;nd|4,4;4,4|customize| |/d/tensors/0_1/0/2_L/0_S/3_SplitOperation/"
                      "before/intensor0.bin|/d/tensors/0_1/0/2_L/0_S/3_SplitOperation/before/outtensor0.bin;"
                      "/d/tensors/0_1/0/2_L/0_S/3_SplitOperation/before/outtensor1.bin| | | | |NO_ERROR\n\n"},
      {"curated.csv",
       "CaseNum|CaseName |OpName       |OpParam |InNum|InDType|InFormat|InShape|OutNum|OutDType|"
       "OutFormat|OutShape|DataGenType|DataGenRange|InTensorFile|OutTensorFile|ExpectedError|TestLevel|"
       "FromModel|SocVersion|TestType\n1 |r |RopeOperation|{\"rotaryCoeff\": 2}|2 |float16;uint32|nd;nd|"
       "3,8;|1|float16|nd|3,8|random;random|0,1;2,2| | |NO_ERROR | |m |Ascend910B |Function\n"},
  };
  const std::vector<std::pair<std::string, std::string>> cpu_profiling = {
      {"statistic.txt",
       "[LinearOperation_2_0_1]:totalTime:120, runnerSetupTime:41, setupCacheHitCount:0\n"
       "[LinearOperation_2_0_1]:totalTime:900, kernelExecuteTime:750\n"},
      {"statistic.csv",
       "opname,execute_kernelExecuteTime,setup_runnerSetupTime\nLinearOperation_2_0_1,750,41\n"
       "\"RmsNormOperation_2_0_0\",,4\n"},
  };
  const std::vector<std::pair<std::string, std::string>> graph_text = {
      {"graph.txt",
       "name: \"graph_1\"\ninput: \"arg0_1:0\"\n# one field per line\nop {\n  name: \"Split_1\"\n  type: \"SplitV\"\n"
       "  input: \"arg0_1:0\"\n  attr {\n    key: \"num_split\"\n    value {\n      i: 2\n    }\n  }\n"
       "  output_desc {\n    name: \"y0\"\n    dtype: DT_FLOAT16\n    shape {\n      dim: 2\n      dim: -1\n    }\n"
       "    attr {\n      key: \"_fx_tensor_name\"\n      value {\n        s: \"split-aten.split.Tensor.OUTPUT.0\"\n"
       "      }\n    }\n  }\n}\nop { name: \"Add_2\" type: \"Add\" input: \"Split_1:0\" input: \"Split_1:1\" }\n"},
  };
  const std::vector<std::pair<std::string, std::string>> topology = {
      {"model.json",
       R"({"modelName":"LlamaModel","nodes":[{"opName":"LlamaLayer_2","opType":"LlamaLayer",)"
       R"("inTensors":["M_input_0"],"outTensors":["M_output_0"],"internalTensors":["L_0"],"nodes":[)"
       R"({"opName":"RmsNormOperation_2_0","opType":"RmsNormOperation","param":{"epsilon":1e-6},)"
       R"("inTensors":["M_input_0"],"outTensors":["L_0"]},{"opName":"LinearOperation_2_1",)"
       R"("opType":"LinearOperation","param":{"transposeB":true},"inTensors":["L_0"],"outTensors":["M_output_0"]}]}]})"},
      {"layer.json",
       R"({"opName":"Decoder_layer_1","opType":"Decoder_layer","inTensors":["x"],"outTensors":["y"],)"
       R"("nodes":[{"opName":"ElewiseOperation_1_0","opType":"ElewiseOperation","param":{"elewiseType":8},)"
       R"("inTensors":["x","x"],"outTensors":["y"]}]})"},
  };
  const std::vector<std::pair<std::string, std::string>> module_tree = {
      {"model_tree.json",
       R"({"name":"root","type":"LlamaForCausalLM","children":[{"name":"root.model","type":"LlamaModel",)"
       R"("children":[{"name":"root.model.layers.0","type":"LlamaDecoderLayer"}]},)"
       R"({"name":"root.lm_head","type":"Linear"}]})"},
  };
  const std::vector<std::pair<std::string, const std::vector<std::pair<std::string, std::string>>*>> targets = {
      {"atb_bin", &atb},
      {"npy", &npy},
      {"safetensors", &safetensors},
      {"pth", &pth},
      {"unpickler", &pickles},
      {"metadata_labels", &labels},
      {"op_io_csv", &op_io},
      {"cpu_profiling", &cpu_profiling},
      {"ge_graph_text", &graph_text},
      {"atb_topology", &topology},
      {"module_tree", &module_tree}};
  for (const auto& [target, seeds] : targets) {
    for (const auto& [name, content] : *seeds) {
      write(out / target, name, content);
      if (target == "atb_bin" || target == "npy" || target == "safetensors" || target == "pth")
        write(out / "tensor_file", name, content);
    }
  }
  return 0;
}
