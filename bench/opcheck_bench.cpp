// Runs the opcheck golden kernels of one LLaMA-style decoder layer (hidden 4096, seq 256, 32
// heads, intermediate 11008, fp16) on random data and prints per-op time, GFLOP/s of the Linear
// kernels and the layer total. Prints figures only.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aitdb/compare/opcheck_kernels.h"

namespace {

using aitdb::DType;
using aitdb::compare::HostTensor;
using nlohmann::json;

constexpr std::int64_t kHidden = 4096;
constexpr std::int64_t kSeq = 256;
constexpr std::int64_t kHeads = 32;
constexpr std::int64_t kHeadDim = kHidden / kHeads;
constexpr std::int64_t kInter = 11008;

HostTensor random_tensor(std::vector<std::int64_t> shape, float scale, std::uint64_t seed) {
  HostTensor t{DType::Float16, std::move(shape), {}, {}};
  std::int64_t n = 1;
  for (const auto d : t.shape) n *= d;
  t.values.resize(static_cast<std::size_t>(n));
  std::uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
  for (float& v : t.values) {
    s ^= s << 13U;
    s ^= s >> 7U;
    s ^= s << 17U;
    v = aitdb::compare::round_to_dtype(DType::Float16, scale * (static_cast<float>(s >> 40U) / 8388608.0F - 1.0F));
  }
  return t;
}

struct Timer {
  double total = 0;
  double linear_seconds = 0;
  double linear_flops = 0;
  int ops = 0;

  HostTensor run(const char* name, const char* op, const json& param, const std::vector<HostTensor>& inputs,
                 double flops = 0) {
    const auto kernel = aitdb::compare::find_opcheck_kernel(op);
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<HostTensor> out = kernel({.what = name, .param = param, .inputs = inputs});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    total += s;
    ++ops;
    if (flops > 0) {
      linear_seconds += s;
      linear_flops += flops;
      std::printf("%-16s %8.1f ms  %6.1f GFLOP/s\n", name, s * 1e3, flops / s / 1e9);
    } else {
      std::printf("%-16s %8.1f ms\n", name, s * 1e3);
    }
    return std::move(out.front());
  }
};

}  // namespace

int main() {
  const json linear_param = {{"transposeA", false}, {"transposeB", true}, {"hasBias", false}};
  const json rms_param = {{"layerType", 1}, {"normParam", {{"epsilon", 1e-6}}}};
  const auto gemm_flops = [](std::int64_t m, std::int64_t n, std::int64_t k) { return 2.0 * m * n * k; };

  std::printf("GEMM instruction set: %s\n", aitdb::compare::opcheck_gemm_isa());
  std::printf("generating weights...\n");
  const HostTensor x = random_tensor({kSeq, kHidden}, 1.0F, 1);
  const HostTensor gamma = random_tensor({kHidden}, 1.0F, 2);
  const HostTensor w_qkv = random_tensor({3 * kHidden, kHidden}, 0.02F, 3);
  const HostTensor w_o = random_tensor({kHidden, kHidden}, 0.02F, 4);
  const HostTensor w_gate_up = random_tensor({2 * kInter, kHidden}, 0.02F, 5);
  const HostTensor w_down = random_tensor({kHidden, kInter}, 0.02F, 6);
  const HostTensor cos = random_tensor({kSeq, kHeadDim}, 1.0F, 7);
  const HostTensor sin = random_tensor({kSeq, kHeadDim}, 1.0F, 8);
  HostTensor mask{DType::Float16, {kSeq, kSeq}, std::vector<float>(kSeq * kSeq, 0.0F), {}};
  for (std::int64_t i = 0; i < kSeq; ++i) {
    for (std::int64_t j = i + 1; j < kSeq; ++j) mask.values[i * kSeq + j] = -10000.0F;
  }
  const HostTensor seqlen{DType::Int32, {1}, {static_cast<float>(kSeq)}, {}};

  Timer timer;
  const HostTensor h = timer.run("RmsNorm", "RmsNormOperation", rms_param, {x, gamma});
  const HostTensor qkv = timer.run("Linear QKV", "LinearOperation", linear_param, {h, w_qkv}, gemm_flops(kSeq, 3 * kHidden, kHidden));
  const json split_param = {{"splitDim", 1}, {"splitNum", 3}};
  const auto split = aitdb::compare::find_opcheck_kernel("SplitOperation")({.what = "split", .param = split_param, .inputs = {&qkv, 1}});
  const auto rope = aitdb::compare::find_opcheck_kernel("RopeOperation");
  const json rope_param = {{"rotaryCoeff", 2}};
  const std::vector<HostTensor> rope_in{split[0], split[1], cos, sin, seqlen};
  auto t0 = std::chrono::steady_clock::now();
  const auto qk = rope({.what = "rope", .param = rope_param, .inputs = rope_in});
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  timer.total += s;
  ++timer.ops;
  std::printf("%-16s %8.1f ms\n", "Rope", s * 1e3);
  const json attn_param = {{"headNum", kHeads}, {"kvHeadNum", kHeads}, {"qkScale", 1.0 / std::sqrt(double(kHeadDim))},
                           {"calcType", 3}, {"maskType", 1}};
  const HostTensor attn = timer.run("SelfAttention", "SelfAttentionOperation", attn_param, {qk[0], qk[1], split[2], mask, seqlen});
  const HostTensor o = timer.run("Linear O", "LinearOperation", linear_param, {attn, w_o}, gemm_flops(kSeq, kHidden, kHidden));
  const HostTensor res = timer.run("Elewise add", "ElewiseOperation", {{"elewiseType", 8}}, {x, o});
  const HostTensor h2 = timer.run("RmsNorm", "RmsNormOperation", rms_param, {res, gamma});
  const HostTensor gu = timer.run("Linear gate/up", "LinearOperation", linear_param, {h2, w_gate_up}, gemm_flops(kSeq, 2 * kInter, kHidden));
  const HostTensor act = timer.run("SwiGLU", "ActivationOperation", {{"activationType", 6}, {"dim", -1}}, {gu});
  timer.run("Linear down", "LinearOperation", linear_param, {act, w_down}, gemm_flops(kSeq, kHidden, kInter));

  std::printf("layer: %d ops in %.3f s (%.1f ops/s); Linear %.1f GFLOP/s over %.3f s\n", timer.ops, timer.total,
              timer.ops / timer.total, timer.linear_flops / timer.linear_seconds / 1e9, timer.linear_seconds);
  return 0;
}
