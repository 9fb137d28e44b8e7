// libFuzzer target: format sniffing and dispatch, the path every ingested file takes.
#include "aitdb/ingest/readers.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  aitdb::fuzz::run_decoder([&] {
    aitdb::fuzz::check_tensors(
        aitdb::ingest::read_tensor_file(aitdb::fuzz::as_bytes(data, size), "fuzz.dat", {}).tensors);
  });
  return 0;
}
