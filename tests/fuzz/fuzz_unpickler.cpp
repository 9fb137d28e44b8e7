// libFuzzer target: the allow-list unpickler alone, fed data.pkl bytes without a zip around them.
#include <string_view>

#include "fuzz_support.h"
#include "safe_unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aitdb::fuzz::run_decoder([&] {
    aitdb::ingest::SafeUnpickler u(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.pkl");
    const std::uint32_t root = u.run();
    (void)u.at(root);  // the result must be a valid object index
  });
  return 0;
}
