// libFuzzer target: the GE graph text (protobuf text format of a GraphDef) parser.
#include <string_view>

#include "aitdb/ingest/ge_graph_text.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aitdb::fuzz::run_decoder([&] {
    const auto graph = aitdb::ingest::parse_ge_graph_text(
        std::string_view(reinterpret_cast<const char*>(data), size), "dynamo_original_graph_1.txt");
    (void)graph;
  });
  return 0;
}
