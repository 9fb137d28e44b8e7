#include <gtest/gtest.h>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

const ReadLimits kLimits{};

class PthReader : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!test::have_torch()) return;
    dir_ = std::make_unique<test::TempDir>();
    ASSERT_EQ(test::run_python("make_pth.py", {dir_->path().string()}), 0);
  }
  static void TearDownTestSuite() { dir_.reset(); }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "/usr/bin/python3 with torch is not installed";
  }
  static std::filesystem::path file(const std::string& n) { return dir_->path() / n; }
  static void expect_refused(const std::string& name, const std::string& needle) {
    try {
      read_pth(file(name), kLimits);
      FAIL() << name << " accepted; expected: " << needle;
    } catch (const FormatError& e) {
      EXPECT_EQ(e.path(), file(name).string());
      EXPECT_NE(e.reason().find(needle), std::string::npos) << name << ": " << e.reason();
    }
  }
  static std::vector<float> as_floats(const DecodedTensor& t) {
    std::vector<float> f(scalar_count(*t.dtype, t.data.size() / dtype_size(*t.dtype)));
    to_float(*t.dtype, t.data.data(), t.data.size() / dtype_size(*t.dtype), f.data());
    return f;
  }
  static std::unique_ptr<test::TempDir> dir_;
};
std::unique_ptr<test::TempDir> PthReader::dir_;

TEST_F(PthReader, ContiguousTensor) {
  const auto t = read_pth(file("contiguous.pth"), kLimits);
  ASSERT_EQ(t.size(), 1U);
  EXPECT_EQ(t[0].dtype, DType::Float16);
  EXPECT_EQ(t[0].shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(as_floats(t[0]), (std::vector<float>{0, 1, 2, 3, 4, 5}));
}

TEST_F(PthReader, ViewsGatherThroughOffsetAndStrides) {
  const auto v = read_pth(file("view.pth"), kLimits);
  EXPECT_EQ(v[0].dtype, DType::BFloat16);
  EXPECT_EQ(as_floats(v[0]), (std::vector<float>{5, 6, 9, 10}));
  const auto t = read_pth(file("transposed.pth"), kLimits);
  EXPECT_EQ(t[0].shape, (std::vector<std::int64_t>{4, 3}));
  EXPECT_EQ(as_floats(t[0]), (std::vector<float>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
}

TEST_F(PthReader, ParameterScalarComplexAndProtocol4) {
  EXPECT_EQ(as_floats(read_pth(file("param.pth"), kLimits)[0]), (std::vector<float>{1, 1, 1, 1}));
  const auto b = read_pth(file("scalar_bool.pth"), kLimits);
  EXPECT_TRUE(b[0].shape.empty());
  EXPECT_EQ(b[0].dtype, DType::Bool);
  EXPECT_EQ(b[0].data, std::vector<std::byte>{std::byte{1}});
  EXPECT_EQ(as_floats(read_pth(file("complex.pth"), kLimits)[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(as_floats(read_pth(file("proto4.pth"), kLimits)[0]), (std::vector<float>{1.5F, -2.0F}));
}

TEST_F(PthReader, DictsAndListsYieldNamedTensors) {
  const auto sd = read_pth(file("state_dict.pth"), kLimits);
  ASSERT_EQ(sd.size(), 2U);
  EXPECT_EQ(sd[0].name, "a");
  EXPECT_EQ(sd[1].name, "b");
  EXPECT_EQ(as_floats(sd[1]), (std::vector<float>{3, 4, 5}));  // shares a's storage at offset 3
  const auto pd = read_pth(file("plain_dict.pth"), kLimits);
  ASSERT_EQ(pd.size(), 2U);  // scalars and strings are skipped
  EXPECT_EQ(pd[0].name, "w");
  EXPECT_EQ(pd[0].data, test::bytes_of(std::vector<std::int64_t>{1, -2}));
  EXPECT_EQ(pd[1].name, "nested.v");
  const auto l = read_pth(file("list.pth"), kLimits);
  ASSERT_EQ(l.size(), 2U);
  EXPECT_EQ(l[1].name, "1");
  EXPECT_EQ(l[1].dtype, DType::UInt8);
}

TEST_F(PthReader, RefusesCodeAndHostileArchives) {
  expect_refused("evil_global.pth", "os.system");
  expect_refused("evil_torch.pth", "torch.load");
  expect_refused("evil_opcode.pth", "opcode 0x82");
  expect_refused("traversal.pth", "escapes the archive");
  expect_refused("no_pickle.pth", "no data.pkl");
  expect_refused("no_tensor.pth", "no tensor");
  expect_refused("short_storage.pth", "holds 4 bytes but the pickle declares 12");
  expect_refused("truncated.pth", "zip");
  try {
    read_pth(file("lying_size.pth"), kLimits);
    FAIL() << "lying sizes accepted";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), file("lying_size.pth").string());
  }
  EXPECT_EQ(sniff_format(file("legacy.pth"), kLimits), FileFormat::LegacyTorch);
  try {
    read_tensor_file(file("legacy.pth"), kLimits);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(e.reason().find("legacy"), std::string::npos);
  }
}

TEST_F(PthReader, SharedSyntheticFixtures) {
  const auto shared = test::shared_fixtures();
  if (!shared) GTEST_SKIP() << "../shared is absent";
  const auto dir = *shared / "synthetic";
  EXPECT_EQ(as_floats(read_pth(dir / "torch_output.pth", kLimits)[0]), (std::vector<float>{0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(as_floats(read_pth(dir / "torch_input_0.pth", kLimits)[0]), (std::vector<float>{5, 6, 9, 10}));
  EXPECT_EQ(read_pth(dir / "torch_scalar_bool.pth", kLimits)[0].dtype, DType::Bool);
  EXPECT_EQ(as_floats(read_pth(dir / "torch_root.lm_head.weight.pth", kLimits)[0]), (std::vector<float>{1, 1, 1, 1}));
}

}  // namespace
}  // namespace aitdb::ingest
