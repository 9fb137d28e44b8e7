#include <gtest/gtest.h>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

using test::TempDir;
using namespace std::string_literals;
const ReadLimits kLimits{};

template <typename Reader>
void expect_refused(Reader reader, const TempDir& d, const std::string& content, const std::string& needle) {
  test::write_file(d / "bad", content);
  try {
    reader(d / "bad", kLimits);
    FAIL() << "accepted a bad file; expected: " << needle;
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), (d / "bad").string());
    EXPECT_NE(e.reason().find(needle), std::string::npos) << e.reason();
  }
}

TEST(NpyReader, COrderLittleEndian) {
  TempDir d;
  const std::vector<float> v{1, 2, 3, 4, 5, 6};
  test::write_file(d / "a.npy", test::npy("<f4", {2, 3}, test::bytes_of(v)));
  const auto t = read_npy(d / "a.npy", kLimits);
  EXPECT_EQ(t[0].dtype, DType::Float32);
  EXPECT_EQ(t[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(t[0].data, test::bytes_of(v));
}

TEST(NpyReader, FortranOrderIsTransposedToRowMajor) {
  TempDir d;
  // [[0,1,2],[3,4,5]] in column-major order is 0,3,1,4,2,5.
  test::write_file(d / "f.npy", test::npy("<i4", {2, 3}, test::bytes_of(std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}), true));
  const auto t = read_npy(d / "f.npy", kLimits);
  EXPECT_EQ(t[0].data, test::bytes_of(std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
  // 3-D: shape (2,2,2), F-order element (i,j,k) at i + 2j + 4k.
  std::vector<std::int32_t> f(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) f[static_cast<std::size_t>(i + 2 * j + 4 * k)] = 100 * i + 10 * j + k;
  test::write_file(d / "f3.npy", test::npy("<i4", {2, 2, 2}, test::bytes_of(f), true));
  const auto t3 = read_npy(d / "f3.npy", kLimits);
  EXPECT_EQ(t3[0].data, test::bytes_of(std::vector<std::int32_t>{0, 1, 10, 11, 100, 101, 110, 111}));
}

TEST(NpyReader, BigEndianIsSwapped) {
  TempDir d;
  test::write_file(d / "b.npy", test::npy(">i4", {2}, test::bytes_of("\0\0\0\x01\0\0\x01\0"s)));
  const auto t = read_npy(d / "b.npy", kLimits);
  EXPECT_EQ(t[0].data, test::bytes_of(std::vector<std::int32_t>{1, 256}));
  test::write_file(d / "c.npy", test::npy(">c8", {1}, test::bytes_of("\x3f\x80\0\0\x40\0\0\0"s)));
  const auto c = read_npy(d / "c.npy", kLimits);
  EXPECT_EQ(c[0].data, test::bytes_of(std::vector<float>{1.0F, 2.0F}));
}

TEST(NpyReader, EmptyScalarBoolAndV2Header) {
  TempDir d;
  test::write_file(d / "e.npy", test::npy("<f4", {0, 4}, {}));
  EXPECT_EQ(read_npy(d / "e.npy", kLimits)[0].shape, (std::vector<std::int64_t>{0, 4}));
  test::write_file(d / "s.npy", test::npy("<f8", {}, test::bytes_of(std::vector<double>{2.5})));
  EXPECT_TRUE(read_npy(d / "s.npy", kLimits)[0].shape.empty());
  test::write_file(d / "b.npy", test::npy("|b1", {3}, test::bytes_of("\x01\0\x01"s)));
  EXPECT_EQ(read_npy(d / "b.npy", kLimits)[0].dtype, DType::Bool);
  // Version 2.0 uses a 4-byte header length.
  std::string v1 = test::npy("<i2", {1}, test::bytes_of(std::vector<std::int16_t>{7}));
  const std::string dict = v1.substr(10);
  std::string v2 = "\x93NUMPY\x02\x00"s;
  const std::uint32_t n = static_cast<std::uint32_t>(dict.size() - 2);
  v2 += std::string(reinterpret_cast<const char*>(&n), 4) + dict.substr(0, dict.size() - 2) + dict.substr(dict.size() - 2);
  test::write_file(d / "v2.npy", v2);
  EXPECT_EQ(read_npy(d / "v2.npy", kLimits)[0].data, test::bytes_of(std::vector<std::int16_t>{7}));
}

TEST(NpyReader, RefusesNonTensorsAndHostileHeaders) {
  TempDir d;
  const auto r = [](const std::filesystem::path& p, const ReadLimits& l) { return read_npy(p, l); };
  expect_refused(r, d, test::npy("|O", {1}, std::vector<std::byte>(8)), "Python objects");
  expect_refused(r, d, test::npy("<U8", {}, std::vector<std::byte>(32)), "strings");
  expect_refused(r, d, test::npy("|V2", {1}, std::vector<std::byte>(2)), "void");
  expect_refused(r, d, "\x93NUMPY\x01\x00\x40\x00{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }     \n"s,
                 "structured");
  expect_refused(r, d, test::npy("<f4", {4}, std::vector<std::byte>(8)), "truncated payload");
  expect_refused(r, d, test::npy("<f4", {1LL << 40, 1LL << 40}, {}), "overflows");
  expect_refused(r, d, "\x93NUMPX\x01\x00"s + std::string(60, ' '), "bad magic");
  expect_refused(r, d, "\x93NUMPY\x01\x00\xff\xff{"s, "truncated");
  expect_refused(r, d, "\x93NUMPY\x02\x00\xff\xff\xff\x7f"s, "implausibly large");
  expect_refused(r, d, "\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',   "s, "ends early");
  expect_refused(r, d, test::npy("<f4", {-1}, {}), "negative");
  expect_refused(r, d, test::npy("<q9", {1}, {}), "unsupported npy descr");
}

TEST(NpyReader, SharedSyntheticFixtures) {
  const auto shared = test::shared_fixtures();
  if (!shared) GTEST_SKIP() << "../shared is absent";
  const auto dir = *shared / "synthetic";
  std::vector<std::uint16_t> halves;
  for (int i = 0; i < 6; ++i) halves.push_back(test::f32_to_f16_bits(static_cast<float>(i)));
  EXPECT_EQ(read_npy(dir / "numpy_f16_2x3.npy", kLimits)[0].data, test::bytes_of(halves));
  EXPECT_EQ(read_npy(dir / "numpy_fortran.npy", kLimits)[0].data,
            test::bytes_of(std::vector<std::int32_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(read_npy(dir / "numpy_big.npy", kLimits)[0].data, test::bytes_of(std::vector<std::int32_t>{0, 1}));
  EXPECT_EQ(read_npy(dir / "numpy_empty.npy", kLimits)[0].shape, (std::vector<std::int64_t>{0, 4}));
  EXPECT_THROW(read_npy(dir / "numpy_str.npy", kLimits), FormatError);
}

TEST(SafetensorsReader, ReadsEveryEntry) {
  TempDir d;
  test::write_file(d / "w.safetensors",
                   test::safetensors({{"a.weight", "F32", {2}, test::bytes_of(std::vector<float>{1, 2})},
                                      {"b", "BF16", {1, 2}, test::bytes_of("\x80\x3f\0\x40"s)},
                                      {"c", "I8", {3}, test::bytes_of("\x01\x02\xff"s)}}));
  const auto t = read_safetensors(d / "w.safetensors", kLimits);
  ASSERT_EQ(t.size(), 3U);
  EXPECT_EQ(t[0].name, "a.weight");
  EXPECT_EQ(t[0].data, test::bytes_of(std::vector<float>{1, 2}));
  EXPECT_EQ(t[1].dtype, DType::BFloat16);
  EXPECT_EQ(t[1].shape, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(t[2].dtype, DType::Int8);
}

TEST(SafetensorsReader, RefusesLyingHeaders) {
  TempDir d;
  const auto r = [](const std::filesystem::path& p, const ReadLimits& l) { return read_safetensors(p, l); };
  std::string good = test::safetensors({{"a", "F32", {2}, test::bytes_of(std::vector<float>{1, 2})}});
  expect_refused(r, d, good.substr(0, good.size() - 4), "lie outside");
  std::string huge = good;
  huge[5] = '\x7f';  // header length far beyond the file
  expect_refused(r, d, huge, "exceeds the file");
  expect_refused(r, d, test::safetensors({{"a", "F32", {3}, test::bytes_of(std::vector<float>{1, 2})}}), "need 12");
  expect_refused(r, d, test::safetensors({{"a", "Q4", {2}, std::vector<std::byte>(2)}}), "unsupported dtype Q4");
  expect_refused(r, d, "\x05\0\0\0\0\0\0\0{\"a\":"s, "not valid JSON");
  expect_refused(r, d, "\x02\0\0\0\0\0\0"s, "too short");
}

}  // namespace
}  // namespace aitdb::ingest
