// libFuzzer target: the metadata.json label reader, under each directory that changes its reading.
#include "fuzz_support.h"
#include "metadata_labels.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const char* rel : {"metadata.json", "golden_tensor/metadata.json", "acl_tensor/metadata.json"}) {
    aitdb::fuzz::run_decoder([&] {
      const auto rows = aitdb::ingest::read_metadata_labels(aitdb::fuzz::as_bytes(data, size), rel, rel, {});
      for (const auto& r : rows) {
        if (!r.golden_path && !r.my_path) aitdb::fuzz::invariant_broken("a label row names no tensor");
      }
    });
  }
  return 0;
}
