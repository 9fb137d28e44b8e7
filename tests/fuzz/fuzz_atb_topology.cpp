// libFuzzer target: the ATB model / layer topology JSON reader, read both ways. Every dataflow
// edge it returns must name ops it returned.
#include <string>

#include "fuzz_support.h"
#include "op_graph/op_graph_builder.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const bool is_model : {true, false}) {
    aitdb::fuzz::run_decoder([&] {
      const auto g = aitdb::ingest::parse_topology("model/1/Model.json", text, is_model, 0);
      for (const auto& e : g.edges) {
        if (e.src >= g.ops.size() || e.dst >= g.ops.size()) aitdb::fuzz::invariant_broken("an edge names no op");
      }
    });
  }
  return 0;
}
