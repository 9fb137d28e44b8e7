// libFuzzer target: the torch.save reader (zip container, safe unpickler, storage gathering).
#include "aitdb/ingest/readers.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aitdb::fuzz::run_decoder(
      [&] { aitdb::fuzz::check_tensors(aitdb::ingest::read_pth(aitdb::fuzz::as_bytes(data, size), "fuzz.pth", {})); });
  return 0;
}
