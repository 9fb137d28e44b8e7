#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "aitdb/schema/dtype.h"
#include "aitdb/schema/stats.h"
#include "test_support.h"

namespace aitdb {
namespace {

TEST(DType, CodeTablesMatchFormatsSpec) {
  EXPECT_EQ(dtype_from_acl_code(0), DType::Float32);
  EXPECT_EQ(dtype_from_acl_code(1), DType::Float16);
  EXPECT_EQ(dtype_from_acl_code(27), DType::BFloat16);
  EXPECT_EQ(dtype_from_acl_code(9), DType::Int64);
  EXPECT_EQ(dtype_from_acl_code(12), DType::Bool);
  EXPECT_EQ(dtype_from_acl_code(35), DType::Float8E5M2);
  EXPECT_EQ(dtype_from_acl_code(36), DType::Float8E4M3FN);
  EXPECT_FALSE(dtype_from_acl_code(29));  // int4: packed, not stored
  EXPECT_FALSE(dtype_from_acl_code(5));   // unused code
  EXPECT_EQ(acl_code_description(29), "29 (int4)");
  EXPECT_EQ(dtype_from_acl_name("bf16"), DType::BFloat16);
  EXPECT_EQ(dtype_from_acl_name("float"), DType::Float32);
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto t = static_cast<DType>(i);
    EXPECT_EQ(dtype_from_name(dtype_name(t)), t);
    EXPECT_EQ(dtype_from_acl_code(dtype_info(t).acl_code), t);
  }
}

TEST(DType, HalfConversionIsExact) {
  EXPECT_EQ(half_to_float(0x3C00), 1.0F);
  EXPECT_EQ(half_to_float(0x4000), 2.0F);
  EXPECT_EQ(half_to_float(0xC000), -2.0F);
  EXPECT_EQ(half_to_float(0x7BFF), 65504.0F);
  EXPECT_EQ(half_to_float(0x0001), std::ldexp(1.0F, -24));  // smallest subnormal
  EXPECT_EQ(half_to_float(0x03FF), std::ldexp(1023.0F, -24));
  EXPECT_TRUE(std::isinf(half_to_float(0x7C00)));
  EXPECT_TRUE(std::isnan(half_to_float(0x7E00)));
  EXPECT_TRUE(std::signbit(half_to_float(0x8000)));
  // Bulk path (F16C where present) agrees with the scalar decoder on every bit pattern.
  std::vector<std::uint16_t> all(65536);
  for (std::uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<std::uint16_t>(i);
  std::vector<float> out(all.size());
  to_float(DType::Float16, reinterpret_cast<const std::byte*>(all.data()), all.size(), out.data());
  for (std::uint32_t i = 0; i < 65536; ++i) {
    const float ref = half_to_float(static_cast<std::uint16_t>(i));
    if (std::isnan(ref)) {
      ASSERT_TRUE(std::isnan(out[i])) << i;
    } else {
      ASSERT_EQ(std::memcmp(&ref, &out[i], 4), 0) << i;
    }
  }
}

TEST(DType, BFloat16AndFloat8) {
  EXPECT_EQ(bf16_to_float(0x3FC0), 1.5F);
  EXPECT_EQ(bf16_to_float(0xC000), -2.0F);
  const std::uint8_t e4[] = {0x38, 0x7E, 0x7F, 0x01, 0xB8};
  float f[5];
  to_float(DType::Float8E4M3FN, reinterpret_cast<const std::byte*>(e4), 5, f);
  EXPECT_EQ(f[0], 1.0F);
  EXPECT_EQ(f[1], 448.0F);  // max finite e4m3fn
  EXPECT_TRUE(std::isnan(f[2]));
  EXPECT_EQ(f[3], std::ldexp(1.0F, -9));  // smallest subnormal
  EXPECT_EQ(f[4], -1.0F);
  const std::uint8_t e5[] = {0x3C, 0x7B, 0x7C};
  to_float(DType::Float8E5M2, reinterpret_cast<const std::byte*>(e5), 3, f);
  EXPECT_EQ(f[0], 1.0F);
  EXPECT_EQ(f[1], 57344.0F);
  EXPECT_TRUE(std::isinf(f[2]));
}

TEST(DType, IntegerAndComplexConversion) {
  const std::int64_t big = (1LL << 53) + 1;
  double d = 0;
  to_double(DType::Int64, reinterpret_cast<const std::byte*>(&big), 1, &d);
  EXPECT_EQ(d, 9007199254740992.0);  // nearest double
  const std::uint8_t b[] = {0, 1, 7};
  double bd[3];
  to_double(DType::Bool, reinterpret_cast<const std::byte*>(b), 3, bd);
  EXPECT_EQ(bd[2], 1.0);
  const float c[] = {1.5F, -2.0F};
  double cd[2];
  to_double(DType::Complex64, reinterpret_cast<const std::byte*>(c), 1, cd);
  EXPECT_EQ(cd[0], 1.5);
  EXPECT_EQ(cd[1], -2.0);
  EXPECT_EQ(scalar_count(DType::Complex64, 3), 6U);
}

TEST(DType, CheckedSizesRefuseOverflowAndNegatives) {
  const std::vector<std::int64_t> ok{2, 3};
  EXPECT_EQ(checked_numel(ok), 6U);
  EXPECT_EQ(checked_nbytes(ok, DType::Float32), 24U);
  const std::vector<std::int64_t> huge{1LL << 40, 1LL << 40};
  EXPECT_FALSE(checked_numel(huge));
  const std::vector<std::int64_t> near{1LL << 61};
  EXPECT_TRUE(checked_numel(near));
  EXPECT_FALSE(checked_nbytes(near, DType::Float64));
  const std::vector<std::int64_t> neg{2, -1};
  EXPECT_FALSE(checked_numel(neg));
  const std::vector<std::int64_t> zero{0, 1LL << 62, 1LL << 62};
  EXPECT_EQ(checked_numel(zero), 0U);  // any zero dim gives an empty tensor
  EXPECT_EQ(shape_to_json(ok), "[2,3]");
  EXPECT_EQ(shape_to_json(std::vector<std::int64_t>{}), "[]");
}

TEST(Stats, ValuesAndCounts) {
  const std::vector<float> v{1.0F, -2.0F, 0.0F, 3.0F, std::numeric_limits<float>::quiet_NaN(),
                             std::numeric_limits<float>::infinity()};
  const auto s = compute_stats(DType::Float32, reinterpret_cast<const std::byte*>(v.data()), v.size());
  EXPECT_EQ(s.nan_count, 1U);
  EXPECT_EQ(s.inf_count, 1U);
  EXPECT_EQ(s.zero_count, 1U);
  EXPECT_EQ(*s.min, -2.0);
  EXPECT_TRUE(std::isinf(*s.max));  // inf is not NaN: it counts for max
  EXPECT_DOUBLE_EQ(*s.mean, 0.5);   // finite values only: (1 - 2 + 0 + 3) / 4
  EXPECT_DOUBLE_EQ(*s.std, std::sqrt((0.25 + 6.25 + 0.25 + 6.25) / 4));
  EXPECT_DOUBLE_EQ(*s.l2norm, std::sqrt(14.0));
}

TEST(Stats, BlockMergeMatchesTwoPassOnLargeInput) {
  // Crosses many 4096-element blocks with a large mean, where naive sum-of-squares loses digits.
  std::vector<double> v(100003);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1e6 + static_cast<double>(i % 97) * 0.5;
  double mean = 0;
  for (const double x : v) mean += x;
  mean /= static_cast<double>(v.size());
  double m2 = 0;
  for (const double x : v) m2 += (x - mean) * (x - mean);
  const auto s = compute_stats(DType::Float64, reinterpret_cast<const std::byte*>(v.data()), v.size());
  EXPECT_NEAR(*s.mean, mean, 1e-6);
  EXPECT_NEAR(*s.std, std::sqrt(m2 / static_cast<double>(v.size())), 1e-9);
}

TEST(Stats, EmptyAndAllNan) {
  const auto e = compute_stats(DType::Float32, nullptr, 0);
  EXPECT_FALSE(e.min);
  EXPECT_FALSE(e.mean);
  const std::vector<float> n{std::nanf(""), std::nanf("")};
  const auto s = compute_stats(DType::Float32, reinterpret_cast<const std::byte*>(n.data()), 2);
  EXPECT_EQ(s.nan_count, 2U);
  EXPECT_FALSE(s.max);
}

}  // namespace
}  // namespace aitdb
