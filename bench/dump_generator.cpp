#include "dump_generator.h"

#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

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

enum Kind { F32 = 0, F16 = 1, BF16 = 27 };

class Writer {
 public:
  Writer(const DumpSpec& spec, DumpStats& stats) : spec_(spec), stats_(stats), rng_{spec.seed * 0x9E3779B97F4A7C15ULL + 1} {}

  void tensor(const std::filesystem::path& p, Kind kind, const std::vector<std::int64_t>& dims, float scale) {
    std::uint64_t n = 1;
    for (const auto d : dims) n *= static_cast<std::uint64_t>(d);
    const std::size_t item = kind == F32 ? 4 : 2;
    buf_.resize(n * item);
    const auto& table = normal_table();
    // Values are a function of the path below tensors/ (token, layer, op, file), so golden and
    // perturbed copies line up and no two tensors repeat (which would flatter dedup).
    const std::string ps = p.string();
    Rng vr{(std::hash<std::string>{}(ps.substr(ps.find("/tensors/"))) ^ spec_.seed) | 1U};
    Rng noise{rng_.next() | 1U};
    for (std::uint64_t i = 0; i < n; ++i) {
      float v = table[vr.next() >> 48U] * scale;
      if (spec_.perturb != 0) v *= 1.0F + spec_.perturb * table[noise.next() >> 48U];
      if (kind == F32) {
        std::memcpy(buf_.data() + 4 * i, &v, 4);
      } else {
        const std::uint16_t h = kind == F16 ? to_half(v) : static_cast<std::uint16_t>(std::bit_cast<std::uint32_t>(v) >> 16U);
        std::memcpy(buf_.data() + 2 * i, &h, 2);
      }
    }
    std::string dims_s;
    for (std::size_t i = 0; i < dims.size(); ++i) dims_s += (i ? "," : "") + std::to_string(dims[i]);
    const std::string len = std::to_string(buf_.size());
    const std::string header = "$Version=1.0\n$Object.Count=1\n$Object.Length=" + len + "\nformat=2\ndtype=" +
                               std::to_string(kind) + "\ndims=" + dims_s + "\n$Object.data=0," + len + "\n$End=1\n";
    std::filesystem::create_directories(p.parent_path());
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f.write(header.data(), static_cast<std::streamsize>(header.size()));
    f.write(reinterpret_cast<const char*>(buf_.data()), static_cast<std::streamsize>(buf_.size()));
    stats_.files += 1;
    stats_.bytes += header.size() + buf_.size();
    stats_.largest = std::max<std::uint64_t>(stats_.largest, buf_.size());
  }

 private:
  const DumpSpec& spec_;
  DumpStats& stats_;
  Rng rng_;
  std::vector<std::uint8_t> buf_;
};

}  // namespace

DumpStats write_atb_dump(const std::filesystem::path& out, const DumpSpec& spec) {
  DumpStats stats;
  Writer w(spec, stats);
  const auto root = out / "msit_dump_20250101_000000";
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
      w.tensor(l / "before/intensor0.bin", F16, {1, s, h}, scale);
      w.tensor(l / "0_RmsNormOperation/after/outtensor0.bin", BF16, {1, s, h}, 1.0F);
      w.tensor(l / "0_RmsNormOperation/before/intensor1.bin", F32, {h}, 0.1F);
      w.tensor(l / "1_Attention/0_SelfAttentionOperation/after/outtensor0.bin", F32, {1, s, h}, 0.5F);
      w.tensor(l / "1_Attention/1_LinearOperation/after/outtensor0.bin", F16, {1, heads, s, h / heads}, 0.7F);
      w.tensor(l / "2_Mlp/0_LinearOperation/after/outtensor0.bin", F16, {1, s, inter}, 2.0F);
      w.tensor(l / "2_Mlp/1_SwiGLU/after/outtensor0.bin", BF16, {1, s, inter}, 0.3F);
      w.tensor(l / "after/outtensor0.bin", F16, {1, s, h}, scale);
      std::ofstream(l / "2_Mlp/0_LinearOperation/op_param.json") << "{\"hasBias\":false,\"transposeB\":true}\n";
    }
  }
  std::filesystem::create_directories(root / "layer" / "4242");
  std::ofstream(root / "layer/4242/Decoder_layer_1.json") << "{\"opName\":\"Decoder_layer_1\",\"opType\":\"Decoder_layer\",\"nodes\":[]}\n";
  return stats;
}

}  // namespace aitdb::bench
