// Run-time dispatch of the opcheck GEMM. The build targets baseline x86-64 (SSE2), where Eigen's
// float GEMM reaches about a quarter of what AVX2+FMA or AVX-512 give on the same core, and opcheck
// of one LLM decoder layer is ~100 GFLOP of Linear. Building everything with -march=native would
// change the rounding of every other kernel (FMA contraction) and tie the binary to one CPU, so only
// this block is compiled per instruction set, and the CPU is asked once which to use.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <string_view>
#include <thread>
#include <vector>

#include "aitdb/compare/opcheck_kernels.h"

namespace aitdb::compare {
namespace {

std::atomic<unsigned> g_gemm_threads{std::max(1U, std::thread::hardware_concurrency())};

}  // namespace

void set_opcheck_gemm_threads(unsigned threads) {
  g_gemm_threads = std::max(1U, threads);
}

namespace opcheck {
namespace {

struct GemmVariant {
  detail::GemmBlock block;
  const char* isa;
};

// Widest first; the CPU check runs once per process.
std::vector<GemmVariant> supported_variants() {
  std::vector<GemmVariant> out;
#if defined(AITDB_GEMM_X86_VARIANTS)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    out.push_back({detail::gemm_block_avx512, "avx512"});
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    out.push_back({detail::gemm_block_avx2, "avx2+fma"});
#endif
  out.push_back({detail::gemm_block_baseline, "baseline"});
  return out;
}

const std::vector<GemmVariant>& supported() {
  static const std::vector<GemmVariant> all = supported_variants();
  return all;
}

std::atomic<const GemmVariant*> g_variant{nullptr};

const GemmVariant& variant() {
  const GemmVariant* v = g_variant.load();
  return v != nullptr ? *v : supported().front();
}

}  // namespace

void gemm(const GemmOperand& a, const GemmOperand& b, float* c) {
  const detail::GemmBlock block = variant().block;
  const std::int64_t m = a.transposed ? a.cols : a.rows;
  const std::int64_t n = b.transposed ? b.rows : b.cols;
  const std::int64_t k = a.transposed ? a.rows : a.cols;
  // Below ~16 MFLOP a thread costs more than it saves.
  constexpr double kMinFlopsPerThread = 1 << 24;
  const auto flops = 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const auto threads = static_cast<std::int64_t>(std::clamp<double>(
      flops / kMinFlopsPerThread, 1.0, std::min<double>(g_gemm_threads.load(), static_cast<double>(n))));
  if (threads <= 1) {
    block(a, b, c, 0, n);
    return;
  }
  // Column blocks are multiples of 16 so that every part keeps Eigen's full-width kernels.
  const std::int64_t step = ((n + threads - 1) / threads + 15) / 16 * 16;
  std::vector<std::jthread> workers;
  for (std::int64_t col0 = step; col0 < n; col0 += step) {
    workers.emplace_back([&, col0, cols = std::min(step, n - col0)] { block(a, b, c, col0, cols); });
  }
  block(a, b, c, 0, std::min(step, n));
}

}  // namespace opcheck

const char* opcheck_gemm_isa() {
  return opcheck::variant().isa;
}

bool set_opcheck_gemm_isa(std::string_view isa) {
  for (const auto& v : opcheck::supported()) {
    if (isa == v.isa) {
      opcheck::g_variant = &v;
      return true;
    }
  }
  return false;
}

}  // namespace aitdb::compare
