// libFuzzer target: the GE dump reader, its sniffer and the GE graph text parser.
#include <string_view>

#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/ge_graph_text.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = aitdb::fuzz::as_bytes(data, size);
  (void)aitdb::ingest::looks_like_ge_dump(bytes, size);
  aitdb::fuzz::run_decoder([&] {
    const auto dump = aitdb::ingest::read_ge_dump(bytes, "fuzz");
    std::vector<aitdb::ingest::DecodedTensor> tensors;
    for (const auto* list : {&dump.inputs, &dump.outputs}) {
      for (const auto& t : *list) {
        if (t.tensor) tensors.push_back(*t.tensor);
      }
    }
    aitdb::fuzz::check_tensors(tensors);
  });
  aitdb::fuzz::run_decoder([&] {
    (void)aitdb::ingest::parse_ge_graph_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  });
  return 0;
}
