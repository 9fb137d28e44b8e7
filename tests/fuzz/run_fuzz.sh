#!/usr/bin/env bash
# Builds every libFuzzer target with clang + ASan + UBSan and runs each for a fixed budget.
# Usage: tests/fuzz/run_fuzz.sh [SECONDS_PER_TARGET]   (default 20)
# Fails on the first crash, leak, sanitizer report, timeout or out-of-memory; the reproducer is
# left in build-fuzz/artifacts/. Corpora grow in build-fuzz/corpus/ across runs.
set -euo pipefail
seconds="${1:-20}"
cd "$(dirname "$0")/../.."
build=build-fuzz
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DAITDB_FUZZ=ON -DAITDB_BUILD_TESTS=OFF -DAITDB_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" --target aitdb_fuzz_all
mkdir -p "$build/artifacts"
targets=(atb_bin npy pth unpickler safetensors metadata_labels tensor_file ge_dump op_io_csv cpu_profiling ge_graph_text
  atb_topology module_tree)
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t" "$build/fuzz-seeds/$t"
  echo "fuzz_$t: ${seconds}s"
  # -timeout: one input taking over 10 s is a hang; -rss_limit_mb: a reader must stay bounded.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" \
    "$build/corpus/$t" "$build/fuzz-seeds/$t" 2>"$build/artifacts/$t.log" ||
    { tail -n 60 "$build/artifacts/$t.log"; echo "fuzz_$t failed; reproducer in $build/artifacts/" >&2; exit 1; }
  grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$build/artifacts/$t.log" | tr '\n' ' '
  echo
done
