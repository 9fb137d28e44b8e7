// libFuzzer target: the ATB TensorBinFile reader.
#include "aitdb/ingest/readers.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aitdb::fuzz::run_decoder([&] {
    aitdb::fuzz::check_tensors(aitdb::ingest::read_atb_bin(aitdb::fuzz::as_bytes(data, size), "fuzz.bin", {}));
  });
  return 0;
}
