// libFuzzer target for the GE dump reader, its sniffer and the GE graph text parser: any input
// must either decode or fail with a FormatError, never crash, hang or over-allocate.
// Built only with clang and -DAITDB_FUZZ=ON (tests/CMakeLists.txt). For coverage of the libraries
// too, configure with CMAKE_CXX_FLAGS=-fsanitize=fuzzer-no-link; run e.g.
//   build-fuzz/tests/fuzz_ge_dump -max_len=4096 -rss_limit_mb=1024
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/ge_graph_text.h"
#include "aitdb/schema/errors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  (void)aitdb::ingest::looks_like_ge_dump(bytes, size);
  try {
    const auto dump = aitdb::ingest::read_ge_dump(bytes, "fuzz");
    for (const auto& t : dump.inputs) {
      // A decoded tensor must hold exactly its shape's bytes.
      if (t.tensor && aitdb::checked_nbytes(t.tensor->shape, *t.tensor->dtype) != t.tensor->data.size())
        __builtin_trap();
    }
  } catch (const aitdb::FormatError&) {
  }
  try {
    (void)aitdb::ingest::parse_ge_graph_text(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz");
  } catch (const aitdb::FormatError&) {
  }
  return 0;
}
