// libFuzzer target: the operation/kernel io CSV reader, as either kind of file.
#include "fuzz_support.h"
#include "op_io_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const char* kind : {"operation", "kernel"}) {
    aitdb::fuzz::run_decoder([&] {
      const auto csv = aitdb::ingest::read_op_io_csv(aitdb::fuzz::as_bytes(data, size), "fuzz.csv", kind, {});
      for (const auto& r : csv.rows) {
        if (static_cast<std::int64_t>(r.tensors.size()) != r.in_num + r.out_num) {
          aitdb::fuzz::invariant_broken("a row's tensors differ from InNum + OutNum");
        }
        if (r.op_name.empty()) aitdb::fuzz::invariant_broken("a row without OpName");
      }
      for (const auto& e : csv.errors) {
        if (e.line < 2 || e.reason.empty()) aitdb::fuzz::invariant_broken("a bad row without line or reason");
      }
    });
  }
  return 0;
}
