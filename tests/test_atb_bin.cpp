#include <gtest/gtest.h>

#include <cmath>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

using test::TempDir;
using namespace std::string_literals;

const ReadLimits kLimits{};

std::vector<DecodedTensor> read_bytes(const TempDir& d, const std::string& content, const std::string& name = "t.bin") {
  test::write_file(d / name, content);
  return read_atb_bin(d / name, kLimits);
}

// Expects a FormatError naming the file whose reason contains `needle`.
void expect_refused(const TempDir& d, const std::string& content, const std::string& needle) {
  test::write_file(d / "bad.bin", content);
  try {
    read_atb_bin(d / "bad.bin", kLimits);
    FAIL() << "accepted a bad file; expected: " << needle;
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), (d / "bad.bin").string());
    EXPECT_NE(e.reason().find(needle), std::string::npos) << e.reason();
  }
}

std::vector<std::byte> fp16_payload(const std::vector<float>& v) {
  std::vector<std::uint16_t> h;
  for (const float f : v) h.push_back(test::f32_to_f16_bits(f));
  return test::bytes_of(h);
}

TEST(AtbBinReader, CanonicalFileFromTheSpec) {
  TempDir d;
  const std::string file = test::atb_bin(1, {1, 1, 2}, fp16_payload({1.0F, 2.0F}));
  EXPECT_EQ(file.size(), 102U);  // docs/formats.md: 98-byte header + 4 bytes
  const auto t = read_bytes(d, file);
  ASSERT_EQ(t.size(), 1U);
  EXPECT_EQ(t[0].dtype, DType::Float16);
  EXPECT_EQ(t[0].shape, (std::vector<std::int64_t>{1, 1, 2}));
  EXPECT_EQ(t[0].format, 2);
  const std::vector<std::byte> want{std::byte{0x00}, std::byte{0x3C}, std::byte{0x00}, std::byte{0x40}};
  EXPECT_EQ(t[0].data, want);
  EXPECT_TRUE(t[0].flags.empty());
}

TEST(AtbBinReader, MinimalVariantAndScalar) {
  TempDir d;
  const std::vector<float> v{0.5F, -1.0F};
  auto t = read_bytes(d, test::atb_bin_minimal(0, {2}, test::bytes_of(v)));
  EXPECT_EQ(t[0].dtype, DType::Float32);
  EXPECT_EQ(t[0].format, 2);  // defaults to ND
  EXPECT_EQ(t[0].data, test::bytes_of(v));
  const std::vector<float> s{3.0F};
  t = read_bytes(d, test::atb_bin_minimal(0, {}, test::bytes_of(s)));
  EXPECT_TRUE(t[0].shape.empty());
  EXPECT_EQ(t[0].data.size(), 4U);
}

TEST(AtbBinReader, NamedDtypeAndFormatStrings) {
  TempDir d;
  const std::string f = "$Version=1.0\n$Object.Count=1\n$Object.Length=4\nformat=fractal_nz\ndtype=bf16\ndims=2\n"
                        "$Object.data=0,4\n$End=1\n\x80\x3f\x00\x40"s;
  const auto t = read_bytes(d, f);
  EXPECT_EQ(t[0].dtype, DType::BFloat16);
  EXPECT_EQ(t[0].format, 29);
}

TEST(AtbBinReader, StatsOnlyFile) {
  TempDir d;
  const auto t = read_bytes(d, test::atb_bin_stats(1, {2, 3}, "5.000000", "-65504.000000", "2.500000", "inf"));
  ASSERT_TRUE(t[0].file_stats);
  EXPECT_FALSE(t[0].has_data);
  EXPECT_EQ(*t[0].file_stats->max, 5.0);
  EXPECT_EQ(*t[0].file_stats->min, -65504.0);
  EXPECT_EQ(*t[0].file_stats->mean, 2.5);
  EXPECT_TRUE(std::isinf(*t[0].file_stats->l2norm));
  const auto na = read_bytes(d, test::atb_bin_stats(12, {4}, "N/A", "N/A", "N/A", "N/A"));
  EXPECT_FALSE(na[0].file_stats->max);
}

TEST(AtbBinReader, AliasFileAndMd5Placeholder) {
  TempDir d;
  const auto t = read_bytes(d, "$Version=1.0\n$Object.Count=0\n$Object.Length=0\nformat=2\ndtype=1\ndims=2,2\n"
                               "data=3_1_outtensor0.bin\n$End=1\n");
  EXPECT_EQ(t[0].alias_of, "3_1_outtensor0.bin");
  EXPECT_FALSE(t[0].has_data);
  const std::string md5 = "d41d8cd98f00b204e9800998ecf8427e";
  const auto m = read_bytes(d, "", md5);
  EXPECT_EQ(m[0].md5, md5);
  EXPECT_FALSE(m[0].dtype);
  expect_refused(d, "", "empty file");
}

TEST(AtbBinReader, AppendedRecordsKeepTheLastAndFlag) {
  TempDir d;
  const std::string twice = test::atb_bin(1, {2}, fp16_payload({1, 2})) + test::atb_bin(1, {2}, fp16_payload({3, 4}));
  const auto t = read_bytes(d, twice);
  EXPECT_EQ(t[0].data, fp16_payload({3, 4}));
  EXPECT_EQ(t[0].flags, "appended_records=2");
  const auto tail = read_bytes(d, test::atb_bin(1, {2}, fp16_payload({1, 2})) + "xyz");
  EXPECT_EQ(tail[0].data, fp16_payload({1, 2}));
  EXPECT_EQ(tail[0].flags, "trailing_bytes=3");
}

TEST(AtbBinReader, RefusesCorruptTruncatedAndHostileFiles) {
  TempDir d;
  const auto good = test::atb_bin(0, {2, 2}, test::bytes_of(std::vector<float>{1, 2, 3, 4}));
  expect_refused(d, good.substr(0, 40), "no $End");                       // cut inside the header
  expect_refused(d, good.substr(0, good.size() - 3), "truncated payload");  // cut inside the payload
  expect_refused(d, test::atb_bin(0, {2, 3}, test::bytes_of(std::vector<float>{1, 2, 3, 4})), "need 24");
  expect_refused(d, test::atb_bin(0, {2, -2}, {}), "negative");
  expect_refused(d, test::atb_bin(0, {1LL << 40, 1LL << 40}, {}), "overflow");
  expect_refused(d, test::atb_bin(29, {2}, {std::byte{1}}), "29 (int4)");
  expect_refused(d, test::atb_bin(77, {2}, {}), "unsupported dtype code 77");
  expect_refused(d, "dtype=0\ndims=1,x\n$End=1\n\0\0\0\0"s, "not a comma-separated list");
  expect_refused(d, "dtype=0\n=1\n$End=1\n", "empty name");
  expect_refused(d, "dtype=0\ndims\n$End=1\n", "not 'name=value'");
  expect_refused(d, std::string("dtype=0\nd\x01ms=1\n$End=1\n"), "not text");
  expect_refused(d, "$Version=1.0\n$Object.Length=99999999999\ndtype=0\ndims=1\n$End=1\n\0\0\0\0"s, "truncated payload");
  expect_refused(d, "$Version=1.0\n$Object.Length=4\ndtype=0\ndims=1\n$Object.data=2,4\n$End=1\n\0\0\0\0"s, "outside");
  expect_refused(d, "$Version=1.0\n$Object.Length=4\ndtype=0\n$End=1\n\0\0\0\0"s, "no dims");
  std::string many;
  for (int i = 0; i < 9000; ++i) many += "k" + std::to_string(i) + "=v\n";
  expect_refused(d, many, "8000 lines");
}

TEST(AtbBinReader, SizeCapAndNonRegularFiles) {
  TempDir d;
  test::write_file(d / "big.bin", test::atb_bin(2, {100}, std::vector<std::byte>(100)));
  ReadLimits small;
  small.max_file_size = 64;
  try {
    read_atb_bin(d / "big.bin", small);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(e.reason().find("over the size cap"), std::string::npos);
  }
  EXPECT_THROW(read_atb_bin(d.path(), kLimits), FormatError);  // a directory
}

TEST(AtbBinReader, SharedSyntheticFixtures) {
  const auto shared = test::shared_fixtures();
  if (!shared) GTEST_SKIP() << "../shared is absent";
  const auto dir = *shared / "synthetic";
  auto t = read_atb_bin(dir / "atb_fp16_1x1x2_outtensor0.bin", kLimits);
  EXPECT_EQ(t[0].data, fp16_payload({1, 2}));
  t = read_atb_bin(dir / "atb_bf16_2x2_intensor0.bin", kLimits);
  std::vector<float> f(4);
  to_float(DType::BFloat16, t[0].data.data(), 4, f.data());
  EXPECT_EQ(f, (std::vector<float>{1.5F, -2.0F, 3.25F, 0.0F}));
  t = read_atb_bin(dir / "atb_int64_3_intensor1.bin", kLimits);
  EXPECT_EQ(t[0].data, test::bytes_of(std::vector<std::int64_t>{7, 8, 9}));
  t = read_atb_bin(dir / "atb_bool_4_intensor2.bin", kLimits);
  EXPECT_EQ(t[0].dtype, DType::Bool);
  t = read_atb_bin(dir / "atb_stats_only_outtensor0.bin", kLimits);
  EXPECT_TRUE(t[0].file_stats);
  t = read_atb_bin(dir / "atb_minimal_tensor_view.bin", kLimits);
  EXPECT_EQ(t[0].data, test::bytes_of(std::vector<float>{0.5F, -1.0F}));
  t = read_atb_bin(dir / "atb_appended_twice.bin", kLimits);
  EXPECT_EQ(t[0].data, fp16_payload({3, 4}));
  EXPECT_EQ(t[0].flags, "appended_records=2");
}

}  // namespace
}  // namespace aitdb::ingest
