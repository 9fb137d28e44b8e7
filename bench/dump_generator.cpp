#include "dump_generator.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "aitdb/schema/tensor_formats.h"

namespace aitdb::bench {
namespace {

// xorshift64*: fast and good enough to index a table of normal samples.
struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s >> 12U;
    s ^= s << 25U;
    s ^= s >> 27U;
    return s * 2685821657736338717ULL;
  }
};

const std::array<float, 65536>& normal_table() {
  static const auto t = [] {
    std::array<float, 65536> a{};
    // Inverse-CDF samples at evenly spaced quantiles: an exact N(0,1) shape, no RNG needed.
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double p = (static_cast<double>(i) + 0.5) / static_cast<double>(a.size());
      // Acklam-style rational approximation is overkill here; erfinv via Newton on erf.
      double x = 0;
      for (int k = 0; k < 50; ++k) {
        const double err = 0.5 * std::erfc(-x / std::sqrt(2.0)) - p;
        const double pdf = std::exp(-x * x / 2) / std::sqrt(2 * M_PI);
        x -= err / pdf;
      }
      a[i] = static_cast<float>(x);
    }
    return a;
  }();
  return t;
}

std::uint16_t to_half(float f) {
  const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (x >> 16U) & 0x8000U;
  const int exp = static_cast<int>((x >> 23U) & 0xFFU) - 127 + 15;
  const std::uint32_t man = x & 0x7FFFFFU;
  if (exp <= 0) return static_cast<std::uint16_t>(sign);  // flush tiny values: fine for synthetic data
  if (exp >= 31) return static_cast<std::uint16_t>(sign | 0x7BFFU);
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint32_t>(exp) << 10U) | (man >> 13U));
}

}  // namespace

AtbTensorWriter::AtbTensorWriter(std::uint32_t seed, float perturb, DumpStats& stats)
    : seed_(seed), perturb_(perturb), stats_(stats), noise_state_(seed * 0x9E3779B97F4A7C15ULL + 1) {}

void AtbTensorWriter::tensor(const std::filesystem::path& path, AtbDtype dtype, const std::vector<std::int64_t>& dims,
                             float scale, float perturb) {
  std::uint64_t n = 1;
  for (const auto d : dims) n *= static_cast<std::uint64_t>(d);
  const std::size_t item = dtype == AtbDtype::F32 ? 4 : 2;
  payload_.resize(n * item);
  const auto& table = normal_table();
  const std::string ps = path.string();
  const auto below = ps.find("/tensors/");
  Rng values{(std::hash<std::string>{}(below == std::string::npos ? ps : ps.substr(below)) ^ seed_) | 1U};
  Rng noise_seeds{noise_state_};
  Rng noise{noise_seeds.next() | 1U};
  noise_state_ = noise_seeds.s;
  for (std::uint64_t i = 0; i < n; ++i) {
    float v = table[values.next() >> 48U] * scale;
    if (perturb != 0) v *= 1.0F + perturb * table[noise.next() >> 48U];
    if (dtype == AtbDtype::F32) {
      std::memcpy(payload_.data() + 4 * i, &v, 4);
    } else {
      const std::uint16_t h = dtype == AtbDtype::F16 ? to_half(v)
                                                     : static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(v) >> 16U);
      std::memcpy(payload_.data() + 2 * i, &h, 2);
    }
  }
  write_atb_tensor_file(path, static_cast<int>(dtype), dims, payload_, stats_);
}

void write_atb_tensor_file(const std::filesystem::path& path, int dtype_code, const std::vector<std::int64_t>& dims,
                           std::span<const std::uint8_t> payload, DumpStats& stats) {
  const std::string header = formats::atb_bin_header(dtype_code, 2, dims, payload.size());
  std::filesystem::create_directories(path.parent_path());
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(payload.data()), static_cast<std::streamsize>(payload.size()));
  if (!f) throw std::runtime_error("cannot write " + path.string());
  stats.files += 1;
  stats.bytes += header.size() + payload.size();
  stats.largest = std::max<std::uint64_t>(stats.largest, payload.size());
}

DumpStats write_atb_dump(const std::filesystem::path& out, const DumpSpec& spec) {
  DumpStats stats;
  AtbTensorWriter w(spec.seed, spec.perturb, stats);
  const auto root = dump_root(out);
  const auto rank = root / "tensors" / "0_4242";
  const std::int64_t h = spec.hidden;
  const std::int64_t s = spec.seq;
  const std::int64_t heads = 32;
  const std::int64_t inter = h * 11 / 4;
  const std::int64_t bytes_per_layer = s * h * (2 + 2 + 4 + 2 + 2) + s * inter * 2 * 2 + h * 4;
  const std::int64_t per_token = std::max<std::int64_t>(1, static_cast<std::int64_t>(spec.target_bytes) / spec.tokens / bytes_per_layer);
  for (int token = 0; token < spec.tokens; ++token) {
    for (std::int64_t layer = 0; layer < per_token; ++layer) {
      const auto l = rank / std::to_string(token) / (std::to_string(layer + 1) + "_Decoder_layer");
      const float scale = 1.0F + 0.05F * static_cast<float>(layer);
      w.tensor(l / "before/intensor0.bin", AtbDtype::F16, {1, s, h}, scale);
      w.tensor(l / "0_RmsNormOperation/after/outtensor0.bin", AtbDtype::BF16, {1, s, h}, 1.0F);
      w.tensor(l / "0_RmsNormOperation/before/intensor1.bin", AtbDtype::F32, {h}, 0.1F);
      w.tensor(l / "1_Attention/0_SelfAttentionOperation/after/outtensor0.bin", AtbDtype::F32, {1, s, h}, 0.5F);
      w.tensor(l / "1_Attention/1_LinearOperation/after/outtensor0.bin", AtbDtype::F16, {1, heads, s, h / heads}, 0.7F);
      w.tensor(l / "2_Mlp/0_LinearOperation/after/outtensor0.bin", AtbDtype::F16, {1, s, inter}, 2.0F);
      w.tensor(l / "2_Mlp/1_SwiGLU/after/outtensor0.bin", AtbDtype::BF16, {1, s, inter}, 0.3F);
      w.tensor(l / "after/outtensor0.bin", AtbDtype::F16, {1, s, h}, scale);
      std::ofstream(l / "2_Mlp/0_LinearOperation/op_param.json") << "{\"hasBias\":false,\"transposeB\":true}\n";
    }
  }
  std::filesystem::create_directories(root / "layer" / "4242");
  std::ofstream(root / "layer/4242/Decoder_layer_1.json") << "{\"opName\":\"Decoder_layer_1\",\"opType\":\"Decoder_layer\",\"nodes\":[]}\n";
  return stats;
}

DumpStats write_mid_size_atb_dump(const std::filesystem::path& out, const MidSizeDumpSpec& spec) {
  DumpStats stats;
  AtbTensorWriter w(spec.seed, spec.perturb, stats);
  const auto token = dump_root(out) / "tensors" / "0_4242" / "0";
  constexpr std::array<AtbDtype, 3> kDtypes{AtbDtype::F16, AtbDtype::BF16, AtbDtype::F32};
  const int ops = std::max(1, spec.tensors / 2);
  for (int op = 0; op < ops; ++op) {
    const auto dir = token / (std::to_string(op) + "_LinearOperation");
    for (int side = 0; side < 2; ++side) {
      const int k = 2 * op + side;
      // Sizes interleave small and large (golden-ratio steps), so neither half of the dump is
      // all small or all large tensors.
      const double f = std::fmod(static_cast<double>(k) * 0.6180339887, 1.0);
      const auto bytes = spec.min_bytes + static_cast<std::uint64_t>(f * static_cast<double>(spec.max_bytes - spec.min_bytes));
      const AtbDtype dtype = kDtypes[static_cast<std::size_t>(k) % kDtypes.size()];
      const std::int64_t width = 1024;
      const std::int64_t rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(bytes / (dtype == AtbDtype::F32 ? 4 : 2)) / width);
      w.tensor(dir / (side == 0 ? "before/intensor0.bin" : "after/outtensor0.bin"), dtype, {rows, width},
               0.5F + static_cast<float>(k % 7));
    }
  }
  return stats;
}

}  // namespace aitdb::bench
