// libFuzzer target: the cpu_profiling reader, as the probe's raw .txt and as msit's .csv.
#include "cpu_profiling.h"
#include "fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (const char* name : {"operation_statistic_0.txt", "operation_statistic_0.csv"}) {
    aitdb::fuzz::run_decoder([&] {
      const auto p = aitdb::ingest::read_cpu_profiling(aitdb::fuzz::as_bytes(data, size), name, {});
      for (const auto& r : p.records) {
        if (r.op_name.empty() || r.key.empty()) aitdb::fuzz::invariant_broken("a record without op name or key");
        if (r.phase != "setup" && r.phase != "execute") aitdb::fuzz::invariant_broken("a record without a phase");
      }
    });
  }
  return 0;
}
