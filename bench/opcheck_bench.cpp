// opcheck on one LLaMA-style decoder layer (hidden 4096, seq 256, 32 heads, intermediate 11008,
// fp16): RmsNorm, Linear QKV, Split, Rope, SelfAttention, Linear O, Elewise add, RmsNorm, Linear
// gate/up, SwiGLU, Linear down. Prints figures only (docs/benchmarks.md).
//
//   aitdb_opcheck_bench                   the golden kernels on random in-memory data: per-op time,
//                                         GFLOP/s of the Linear kernels, the layer total
//   aitdb_opcheck_bench --dump [DIR]      writes the layer as an ATB dump tree (the kernels' own
//                                         outputs as the dumped outputs, op_param.json per op),
//                                         ingests it and runs the opcheck runner over it: ops/s
//                                         and the runner's split between loading and kernels
//                 [--seq N] [--hidden N]  smaller sizes for a quick look (defaults 256, 4096)
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aitdb/compare/opcheck_kernels.h"
#include "aitdb/compare/opcheck_runner.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"
#include "dump_generator.h"

namespace {

namespace fs = std::filesystem;
using aitdb::DType;
using aitdb::compare::HostTensor;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct LayerSize {
  std::int64_t hidden = 4096;
  std::int64_t seq = 256;
  std::int64_t heads = 32;
  std::int64_t inter = 11008;
  [[nodiscard]] std::int64_t head_dim() const { return hidden / heads; }
};

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

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// One op of the layer: the runner label, the ATB op type and param, its inputs; returns the
// kernel's outputs. `gemm_flops` > 0 marks a Linear.
using RunOp =
    std::function<std::vector<HostTensor>(const std::string& label, const std::string& type, const json& param,
                                          const std::vector<HostTensor>& inputs, double gemm_flops)>;

// The decoder layer, op by op, in execution order.
void decoder_layer(const LayerSize& z, const RunOp& run) {
  const json linear_param = {{"hasBias", false}, {"transposeA", false}, {"transposeB", true}};
  const json rms_param = {{"layerType", 1}, {"normParam", {{"epsilon", 1e-6}}}};
  const auto gemm_flops = [](std::int64_t m, std::int64_t n, std::int64_t k) { return 2.0 * m * n * k; };
  std::printf("generating weights...\n");
  const HostTensor x = random_tensor({z.seq, z.hidden}, 1.0F, 1);
  const HostTensor gamma = random_tensor({z.hidden}, 1.0F, 2);
  const HostTensor w_qkv = random_tensor({3 * z.hidden, z.hidden}, 0.02F, 3);
  const HostTensor w_o = random_tensor({z.hidden, z.hidden}, 0.02F, 4);
  const HostTensor w_gate_up = random_tensor({2 * z.inter, z.hidden}, 0.02F, 5);
  const HostTensor w_down = random_tensor({z.hidden, z.inter}, 0.02F, 6);
  const HostTensor cos = random_tensor({z.seq, z.head_dim()}, 1.0F, 7);
  const HostTensor sin = random_tensor({z.seq, z.head_dim()}, 1.0F, 8);
  HostTensor mask{
      DType::Float16, {z.seq, z.seq}, std::vector<float>(static_cast<std::size_t>(z.seq * z.seq), 0.0F), {}};
  for (std::int64_t i = 0; i < z.seq; ++i) {
    for (std::int64_t j = i + 1; j < z.seq; ++j) mask.values[static_cast<std::size_t>(i * z.seq + j)] = -10000.0F;
  }
  const HostTensor seqlen{DType::Int32, {1}, {static_cast<float>(z.seq)}, {}};

  const auto h = run("RmsNorm", "RmsNormOperation", rms_param, {x, gamma}, 0);
  const auto qkv =
      run("Linear QKV", "LinearOperation", linear_param, {h[0], w_qkv}, gemm_flops(z.seq, 3 * z.hidden, z.hidden));
  const auto split = run("Split", "SplitOperation", {{"splitDim", 1}, {"splitNum", 3}}, {qkv[0]}, 0);
  const auto qk = run("Rope", "RopeOperation", {{"rotaryCoeff", 2}}, {split[0], split[1], cos, sin, seqlen}, 0);
  const json attn_param = {{"calcType", 3},
                           {"headNum", z.heads},
                           {"kvHeadNum", z.heads},
                           {"maskType", 1},
                           {"qkScale", 1.0 / std::sqrt(static_cast<double>(z.head_dim()))}};
  const auto attn =
      run("SelfAttention", "SelfAttentionOperation", attn_param, {qk[0], qk[1], split[2], mask, seqlen}, 0);
  const auto o =
      run("Linear O", "LinearOperation", linear_param, {attn[0], w_o}, gemm_flops(z.seq, z.hidden, z.hidden));
  const auto res = run("Elewise add", "ElewiseOperation", {{"elewiseType", 8}}, {x, o[0]}, 0);
  const auto h2 = run("RmsNorm", "RmsNormOperation", rms_param, {res[0], gamma}, 0);
  const auto gu = run("Linear gate/up", "LinearOperation", linear_param, {h2[0], w_gate_up},
                      gemm_flops(z.seq, 2 * z.inter, z.hidden));
  const auto act = run("SwiGLU", "ActivationOperation", {{"activationType", 6}, {"dim", -1}}, {gu[0]}, 0);
  run("Linear down", "LinearOperation", linear_param, {act[0], w_down}, gemm_flops(z.seq, z.hidden, z.inter));
}

std::vector<HostTensor> run_kernel(const std::string& label, const std::string& type, const json& param,
                                   const std::vector<HostTensor>& inputs) {
  return aitdb::compare::find_opcheck_kernel(type)({.what = label, .param = param, .inputs = inputs});
}

// The kernels alone, on in-memory data.
int in_memory(const LayerSize& z) {
  double total = 0;
  double linear_seconds = 0;
  double linear_flops = 0;
  int ops = 0;
  decoder_layer(z, [&](const std::string& label, const std::string& type, const json& param,
                       const std::vector<HostTensor>& inputs, double flops) {
    const auto t0 = Clock::now();
    auto out = run_kernel(label, type, param, inputs);
    const double s = seconds_since(t0);
    total += s;
    ++ops;
    if (flops > 0) {
      linear_seconds += s;
      linear_flops += flops;
      std::printf("%-16s %8.1f ms  %6.1f GFLOP/s\n", label.c_str(), s * 1e3, flops / s / 1e9);
    } else {
      std::printf("%-16s %8.1f ms\n", label.c_str(), s * 1e3);
    }
    return out;
  });
  std::printf("layer: %d ops in %.3f s (%.1f ops/s); Linear %.1f GFLOP/s over %.3f s\n", ops, total, ops / total,
              linear_flops / linear_seconds / 1e9, linear_seconds);
  return 0;
}

// ATB's dtype code and little-endian bytes of a kernel tensor (fp16 values are exact in _Float16).
std::pair<int, std::vector<std::uint8_t>> atb_payload(const HostTensor& t) {
  std::vector<std::uint8_t> bytes;
  auto put = [&](const auto v) {
    const auto at = bytes.size();
    bytes.resize(at + sizeof v);
    std::memcpy(bytes.data() + at, &v, sizeof v);
  };
  switch (t.dtype) {
    case DType::Float16:
      for (const float v : t.values) put(static_cast<_Float16>(v));
      return {1, bytes};
    case DType::Int32:
      for (const float v : t.values) put(static_cast<std::int32_t>(v));
      return {3, bytes};
    case DType::Float32:
      for (const float v : t.values) put(v);
      return {0, bytes};
    default:
      break;
  }
  throw std::runtime_error("the bench writes fp16, fp32 and int32 tensors only");
}

// The layer as an ATB dump: {root}/tensors/0_4242/0/0_DecoderLayer/{k}_{Type}/after/..., each
// op's outputs the kernel's own, so every op passes opcheck.
aitdb::bench::DumpStats write_layer_dump(const fs::path& root, const LayerSize& z) {
  aitdb::bench::DumpStats stats;
  const fs::path layer = root / "tensors" / "0_4242" / "0" / "0_DecoderLayer";
  int k = 0;
  decoder_layer(z, [&](const std::string& label, const std::string& type, const json& param,
                       const std::vector<HostTensor>& inputs, double) {
    auto out = run_kernel(label, type, param, inputs);
    const fs::path dir = layer / (std::to_string(k++) + "_" + type);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const auto [code, bytes] = atb_payload(inputs[i]);
      aitdb::bench::write_atb_tensor_file(dir / "after" / ("intensor" + std::to_string(i) + ".bin"), code,
                                          inputs[i].shape, bytes, stats);
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      const auto [code, bytes] = atb_payload(out[i]);
      aitdb::bench::write_atb_tensor_file(dir / "after" / ("outtensor" + std::to_string(i) + ".bin"), code,
                                          out[i].shape, bytes, stats);
    }
    fs::create_directories(dir);
    std::FILE* f = std::fopen((dir / "op_param.json").c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + (dir / "op_param.json").string());
    std::fprintf(f, "%s\n", param.dump().c_str());  // keys sorted, as the probe writes them
    std::fclose(f);
    return out;
  });
  return stats;
}

// Generate, ingest, opcheck; the opcheck figures are the runner's own.
int over_dump(const fs::path& dir, const LayerSize& z) {
  const fs::path root = dir / "msit_dump_20250101_000000";
  const fs::path db = dir / "opcheck_bench.db";
  // Only what an earlier run of this bench left: DIR may hold other things.
  for (const fs::path& p : {root, db, fs::path(db.string() + "-wal"), fs::path(db.string() + "-shm")})
    fs::remove_all(p);
  fs::create_directories(dir);
  auto t0 = Clock::now();
  const auto stats = write_layer_dump(root, z);
  std::printf("dump: %llu files, %.1f MB in %.2f s (%s)\n", static_cast<unsigned long long>(stats.files),
              static_cast<double>(stats.bytes) / 1e6, seconds_since(t0), root.c_str());
  aitdb::Store store(db.string());
  t0 = Clock::now();
  aitdb::ingest::IngestOptions io;
  io.run_name = "layer";
  const auto rep = aitdb::ingest::ingest_path(store, root, io);
  std::printf("ingest: %llu tensors in %.2f s\n", static_cast<unsigned long long>(rep.tensors), seconds_since(t0));
  aitdb::compare::OpcheckOptions opt;
  const auto sum = aitdb::compare::run_opcheck(store, "layer", opt);
  std::printf("opcheck: %zu ops (%zu pass, %zu failed, %zu not supported) in %.3f s: %.1f ops/s\n", sum.ops, sum.passed,
              sum.failed, sum.not_supported, sum.seconds, static_cast<double>(sum.ops) / sum.seconds);
  const double busy = sum.load_seconds + sum.kernel_seconds;
  std::printf("  load   %.3f s (%.0f %%)  blob reads and decoding, summed over workers\n", sum.load_seconds,
              busy > 0 ? 100 * sum.load_seconds / busy : 0.0);
  std::printf("  kernel %.3f s (%.0f %%)  golden recomputation and checks, summed over workers\n", sum.kernel_seconds,
              busy > 0 ? 100 * sum.kernel_seconds / busy : 0.0);
  for (const auto& r : sum.rows) {
    if (r.status != "pass")
      std::printf("  %s %s: %s %s\n", r.op_id.c_str(), r.op_name.c_str(), r.status.c_str(), r.fail_reason.c_str());
  }
  return sum.failed == 0 && sum.not_supported == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  LayerSize z;
  bool dump = false;
  fs::path dir = fs::temp_directory_path() / "aitdb_opcheck_bench";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--dump") {
      dump = true;
      if (i + 1 < argc && argv[i + 1][0] != '-') dir = argv[++i];
    } else if ((a == "--seq" || a == "--hidden") && i + 1 < argc) {
      (a == "--seq" ? z.seq : z.hidden) = std::stoll(argv[++i]);
      z.inter = z.hidden * 11008 / 4096;
    } else {
      std::fprintf(stderr, "usage: aitdb_opcheck_bench [--dump [DIR]] [--seq N] [--hidden N]\n");
      return 2;
    }
  }
  std::printf("GEMM instruction set: %s\n", aitdb::compare::opcheck_gemm_isa());
  try {
    return dump ? over_dump(dir, z) : in_memory(z);
  } catch (const aitdb::Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
}
