#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/tensor_formats.h"
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
  test::write_file(d / "f.npy",
                   test::npy("<i4", {2, 3}, test::bytes_of(std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}), true));
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
  v2 += std::string(reinterpret_cast<const char*>(&n), 4) + dict.substr(0, dict.size() - 2) +
        dict.substr(dict.size() - 2);
  test::write_file(d / "v2.npy", v2);
  EXPECT_EQ(read_npy(d / "v2.npy", kLimits)[0].data, test::bytes_of(std::vector<std::int16_t>{7}));
}

TEST(NpyReader, RefusesNonTensorsAndHostileHeaders) {
  TempDir d;
  const auto r = [](const std::filesystem::path& p, const ReadLimits& l) { return read_npy(p, l); };
  expect_refused(r, d, test::npy("|O", {1}, std::vector<std::byte>(8)), "Python objects");
  expect_refused(r, d, test::npy("<U8", {}, std::vector<std::byte>(32)), "strings");
  expect_refused(r, d, test::npy("|V2", {1}, std::vector<std::byte>(2)), "void");
  expect_refused(r, d,
                 "\x93NUMPY\x01\x00\x40\x00{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (1,), }     \n"s,
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

// The one writer per format and the one dtype table, checked against numpy, torch and a plain
// struct+json parse of safetensors (tests/py/check_formats.py), and read back by our own readers.
TEST(FormatWriters, NumpyTorchAndOurReadersAgree) {
  constexpr std::uint16_t kHalfZeroToFive[] = {0x0000, 0x3C00, 0x4000, 0x4200, 0x4400, 0x4500};
  TempDir d;
  const std::vector<std::int64_t> shape{2, 3};
  std::string storages;
  int npy_written = 0;
  for (int i = 0; i < kDTypeCount; ++i) {
    const auto t = static_cast<DType>(i);
    const DTypeInfo& info = dtype_info(t);
    // Table lookups lead back to the same row.
    if (!info.numpy_descr.empty()) EXPECT_EQ(dtype_from_numpy_code(info.numpy_descr.substr(1)), t) << info.name;
    if (!info.safetensors_name.empty()) EXPECT_EQ(dtype_from_safetensors_name(info.safetensors_name), t) << info.name;
    EXPECT_EQ(dtype_from_torch_storage(info.torch_storage), t) << info.name;
    if (info.ge_code >= 0) EXPECT_EQ(dtype_from_ge_code(info.ge_code), t) << info.name;
    storages += std::string(info.torch_storage) + "\n";
    if (info.numpy_descr.empty() || info.is_complex) continue;
    // Element k holds the value k (bool: k != 0), in the dtype's own encoding.
    std::vector<std::byte> data(6 * info.itemsize);
    for (std::size_t k = 0; k < 6; ++k) {
      std::byte* p = data.data() + k * info.itemsize;
      if (t == DType::Float32) {
        const float v = float(k);
        std::memcpy(p, &v, 4);
      } else if (t == DType::Float64) {
        const double v = double(k);
        std::memcpy(p, &v, 8);
      } else if (t == DType::Float16) {
        std::memcpy(p, &kHalfZeroToFive[k], 2);
      } else if (t == DType::Bool) {
        p[0] = std::byte{k != 0};
      } else {
        const std::uint64_t v = k;
        std::memcpy(p, &v, info.itemsize);
      }
    }
    const std::string name = std::string(info.name) + ".npy";
    test::write_file(
        d / name, formats::npy_header(t, shape) + std::string(reinterpret_cast<const char*>(data.data()), data.size()));
    const auto back = read_npy(d / name, kLimits);
    ASSERT_EQ(back.size(), 1U);
    EXPECT_EQ(back[0].dtype, t);
    EXPECT_EQ(back[0].shape, shape);
    EXPECT_EQ(back[0].data, data) << name;
    ++npy_written;
  }
  EXPECT_THROW(formats::npy_header(DType::BFloat16, shape), FormatError);
  test::write_file(d / "storages.txt", storages);
  const std::vector<float> w{1.5F, -2.0F, 3.25F};
  const std::vector<std::int64_t> w_shape{3};
  const std::vector<std::int64_t> ids_shape{2};
  const std::vector<formats::SafetensorsEntryInfo> entries{{"w", "F32", w_shape, 12}, {"ids", "I64", ids_shape, 16}};
  std::string st = formats::safetensors_header(entries);
  st.append(reinterpret_cast<const char*>(w.data()), 12);
  st.append(16, '\0');
  test::write_file(d / "two.safetensors", st);
  const auto st_back = read_safetensors(d / "two.safetensors", kLimits);
  ASSERT_EQ(st_back.size(), 2U);

  const auto out = d / "found.json";
  ASSERT_EQ(test::run_python("check_formats.py", {d.path().string(), out.string()}), 0);
  const auto found = nlohmann::json::parse(test::read_file(out));
  ASSERT_EQ(found["npy"].size(), static_cast<std::size_t>(npy_written));
  for (const auto& [name, a] : found["npy"].items()) {
    const auto t = dtype_from_name(name.substr(0, name.size() - 4)).value();
    EXPECT_EQ(a["dtype"].get<std::string>(), dtype_info(t).numpy_descr) << name;
    EXPECT_EQ(a["shape"], nlohmann::json(shape)) << name;
    for (int k = 0; k < 6; ++k)
      EXPECT_EQ(a["values"][k].get<double>(), t == DType::Bool ? double(k != 0) : double(k)) << name;
  }
  const auto& two = found["safetensors"]["two.safetensors"];
  EXPECT_TRUE(two["covered"].get<bool>());
  EXPECT_EQ(two["metadata"]["format"], "pt");
  EXPECT_EQ(two["entries"]["w"]["f32"], nlohmann::json({1.5, -2.0, 3.25}));
  EXPECT_EQ(two["entries"]["ids"]["nbytes"], 16);
  // Every storage class this torch knows names the dtype our table gives it.
  int known = 0;
  for (const auto& [cls, dtype] : found["storages"].items()) {
    if (dtype.is_null()) continue;  // a class newer than Debian's torch
    ++known;
    EXPECT_EQ(dtype.get<std::string>(), dtype_info(*dtype_from_torch_storage(cls)).torch_name) << cls;
  }
  EXPECT_GE(known, 10);
}

}  // namespace
}  // namespace aitdb::ingest
