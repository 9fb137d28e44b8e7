// Readers over memory, exact coverage of declared lengths and offsets, bounded decompression, and
// one-line error messages: the reader-level findings of the hardening review, one test each.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "metadata_labels.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

using test::TempDir;
const ReadLimits kLimits{};

std::span<const std::byte> span_of(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Decodes `content` from memory and expects a FormatError naming `display` whose reason has `needle`.
template <typename Reader>
void expect_refused(Reader reader, const std::string& content, const std::string& needle) {
  const std::string display = "mem/input";
  try {
    reader(span_of(content), display, kLimits);
    FAIL() << "accepted; expected: " << needle;
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), display);
    EXPECT_NE(e.reason().find(needle), std::string::npos) << e.reason();
  }
}

const auto kSafetensors = [](std::span<const std::byte> b, const std::string& n, const ReadLimits& l) {
  return read_safetensors(b, n, l);
};
const auto kNpy = [](std::span<const std::byte> b, const std::string& n, const ReadLimits& l) {
  return read_npy(b, n, l);
};
const auto kAtb = [](std::span<const std::byte> b, const std::string& n, const ReadLimits& l) {
  return read_atb_bin(b, n, l);
};
const auto kPth = [](std::span<const std::byte> b, const std::string& n, const ReadLimits& l) {
  return read_pth(b, n, l);
};

void expect_same(const std::vector<DecodedTensor>& a, const std::vector<DecodedTensor>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].name, b[i].name);
    EXPECT_EQ(a[i].dtype, b[i].dtype);
    EXPECT_EQ(a[i].shape, b[i].shape);
    EXPECT_EQ(a[i].data, b[i].data);
    EXPECT_EQ(a[i].flags, b[i].flags);
    EXPECT_EQ(a[i].md5, b[i].md5);
  }
}

std::string u64le(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xFFU);
  return s;
}

// A safetensors file from a literal header (padded with spaces to `header_len`) and a buffer.
std::string safetensors_raw(const std::string& header, std::size_t header_len, const std::string& buffer) {
  std::string h = header;
  h.resize(std::max(header_len, header.size()), ' ');
  return u64le(header_len) + h + buffer;
}

TEST(ReadersFromMemory, AgreeWithTheFileEntryPoints) {
  TempDir d;
  const std::vector<float> v{1.5F, -2, 3, 4};
  const std::vector<std::pair<std::string, std::string>> files = {
      {"a.bin", test::atb_bin(0, {2, 2}, test::bytes_of(v))},
      {"a.npy", test::npy("<f4", {2, 2}, test::bytes_of(v), true)},
      {"a.safetensors", test::safetensors({{"x", "F32", {2, 2}, test::bytes_of(v)}, {"y", "I8", {1}, {std::byte{7}}}})},
      {"a.pth", test::pth("FloatStorage", 4, {2, 2}, test::bytes_of(v))},
      {"0123456789abcdef0123456789abcdef", ""},
  };
  for (const auto& [name, content] : files) {
    SCOPED_TRACE(name);
    test::write_file(d / name, content);
    const TensorFile from_file = read_tensor_file(d / name, kLimits);
    const TensorFile from_memory = read_tensor_file(span_of(content), (d / name).string(), kLimits);
    EXPECT_EQ(from_file.format, from_memory.format);
    EXPECT_EQ(sniff_format(span_of(content), (d / name).string(), kLimits), from_file.format);
    expect_same(from_file.tensors, from_memory.tensors);
  }
  // The test writer's .pth reads back as what it was given.
  const auto t = read_pth(span_of(test::pth("FloatStorage", 4, {2, 2}, test::bytes_of(v))), "w.pth", kLimits);
  ASSERT_EQ(t.size(), 1U);
  EXPECT_EQ(t[0].data, test::bytes_of(v));
  // The memory entry points honour the size cap as the file ones do.
  ReadLimits tiny;
  tiny.max_file_size = 8;
  EXPECT_THROW(read_npy(span_of(files[1].second), "big.npy", tiny), FormatError);
}

TEST(ReadersFromMemory, MetadataLabels) {
  const std::string json = R"({"7": {"0": ["golden/a.npy", "my/a.npy"]}})";
  const auto rows = read_metadata_labels(span_of(json), "m.json", "metadata.json", kLimits);
  ASSERT_EQ(rows.size(), 1U);
  EXPECT_EQ(rows[0].golden_path, std::optional<std::string>("golden/a.npy"));
  EXPECT_EQ(rows[0].my_path, std::optional<std::string>("my/a.npy"));
  try {
    read_metadata_labels(span_of("[1]"), "m.json", "metadata.json", kLimits);
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), "m.json");
  }
}

// Finding: a header-length field one byte short was accepted and every value shifted by a byte.
TEST(SafetensorsCoverage, HeaderLengthOffByOneIsRefused) {
  const std::string header = R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::vector<float> v{1.5F, 2.5F};
  const std::string buffer(reinterpret_cast<const char*>(v.data()), 8);
  const std::size_t len = 64;  // space-padded, as the reference writer aligns it
  const std::string good = safetensors_raw(header, len, buffer);
  EXPECT_EQ(read_safetensors(span_of(good), "ok", kLimits)[0].data, test::bytes_of(v));
  // One short: the JSON still parses (padding), the buffer is a byte longer.
  std::string short_by_one = good;
  short_by_one.replace(0, 8, u64le(len - 1));
  expect_refused(kSafetensors, short_by_one, "must tile it exactly");
  // One long: the first data byte joins the header (a space here, so the JSON still parses).
  const std::vector<float> spaced{std::bit_cast<float>(0x3FC00020U), 2.5F};
  std::string long_by_one = safetensors_raw(header, len, std::string(reinterpret_cast<const char*>(spaced.data()), 8));
  long_by_one.replace(0, 8, u64le(len + 1));
  expect_refused(kSafetensors, long_by_one, "lie outside the 7-byte buffer");
}

TEST(SafetensorsCoverage, OffsetsMustTileTheBufferInAnyOrder) {
  const std::string buffer(12, '\x01');
  const auto file = [&](const std::string& a, const std::string& b, std::size_t buffer_size) {
    return safetensors_raw(
        R"({"a":{"dtype":"U8","shape":[)" +
            std::to_string(std::stoi(a.substr(a.find(',') + 1)) - std::stoi(a.substr(0, a.find(',')))) +
            R"(],"data_offsets":[)" + a + R"(]},"b":{"dtype":"U8","shape":[)" +
            std::to_string(std::stoi(b.substr(b.find(',') + 1)) - std::stoi(b.substr(0, b.find(',')))) +
            R"(],"data_offsets":[)" + b + "]}}",
        128, buffer.substr(0, buffer_size));
  };
  // Out of order but exact: accepted, each tensor with its own bytes.
  EXPECT_EQ(read_safetensors(span_of(file("8,12", "0,8", 12)), "ok", kLimits).size(), 2U);
  expect_refused(kSafetensors, file("0,8", "4,12", 12), "starts at buffer offset 4 but the tensor before it ends at 8");
  expect_refused(kSafetensors, file("0,4", "8,12", 12), "starts at buffer offset 8 but the tensors before it end at 4");
  expect_refused(kSafetensors, file("0,4", "4,8", 12), "the tensors cover 8 of the 12-byte data buffer");
  expect_refused(kSafetensors, file("0,4", "0,4", 12), "starts at buffer offset 0");
}

TEST(NpyCoverage, HeaderLengthOffByOneIsRefused) {
  const std::vector<float> v{1, 2, 3, 4};
  const std::string good = test::npy("<f4", {4}, test::bytes_of(v));
  EXPECT_EQ(read_npy(span_of(good), "ok", kLimits)[0].data, test::bytes_of(v));
  const auto header_len =
      static_cast<std::uint16_t>(static_cast<unsigned char>(good[8]) | (static_cast<unsigned char>(good[9]) << 8U));
  for (const int delta : {-1, +1}) {
    std::string bad = good;
    const auto len = static_cast<std::uint16_t>(header_len + delta);
    bad[8] = static_cast<char>(len & 0xFFU);
    bad[9] = static_cast<char>(len >> 8U);
    expect_refused(kNpy, bad, delta < 0 ? "does not end with" : "other than padding");
  }
  // Trailing bytes after the payload are kept out of the tensor and flagged, as before.
  const auto t = read_npy(span_of(good + "xy"), "t", kLimits);
  EXPECT_EQ(t[0].data, test::bytes_of(v));
  EXPECT_EQ(t[0].flags, "trailing_bytes=2");
}

TEST(AtbCoverage, ObjectsMustTileThePayload) {
  const std::string tail = "format=2\ndtype=4\ndims=4\n";
  const auto file = [&](const std::string& length, const std::string& objects, const std::string& payload) {
    return "$Version=1.0\n$Object.Count=1\n$Object.Length=" + length + "\n" + tail + objects + "$End=1\n" + payload;
  };
  EXPECT_EQ(read_atb_bin(span_of(file("4", "$Object.data=0,4\n", "abcd")), "ok", kLimits)[0].data,
            test::bytes_of(std::string("abcd")));
  // Another object beside data is fine when together they tile the payload.
  EXPECT_EQ(read_atb_bin(span_of(file("6", "$Object.data=2,4\n$Object.pad=0,2\n", "..abcd")), "ok", kLimits)[0].data,
            test::bytes_of(std::string("abcd")));
  expect_refused(kAtb, file("5", "$Object.data=0,4\n", "abcde"), "the objects cover 4 of the 5 payload bytes");
  expect_refused(kAtb, file("5", "$Object.data=1,4\n", "xabcd"), "starts at 1 but the objects before it end at 0");
  expect_refused(kAtb, file("6", "$Object.data=0,4\n$Object.pad=2,2\n", "abcdxx"), "starts at 2");
  expect_refused(kAtb, file("4", "$Object.pad=0,4\n", "abcd"), "none named 'data'");
  // Trailing bytes after the declared payload are flagged, as before.
  EXPECT_EQ(read_atb_bin(span_of(file("4", "$Object.data=0,4\n", "abcdZZ")), "t", kLimits)[0].flags,
            "trailing_bytes=2");
}

std::vector<std::byte> bytes_of_string(const std::string& s) {
  return test::bytes_of(s);
}

// A .pth of one float tensor whose storage entry is `storage`, deflated, under a pickle declaring
// `declared_numel` elements.
std::string pth_with_storage(std::uint64_t declared_numel, std::vector<std::byte> storage, bool deflate) {
  const auto numel = static_cast<std::int64_t>(declared_numel);
  return test::zip_archive(
      {{"a/data.pkl", bytes_of_string(test::torch_tensor_pickle("FloatStorage", declared_numel, 0, {numel}, {1}))},
       {"a/data/0", std::move(storage), deflate},
       {"a/version", bytes_of_string("3\n")}});
}

TEST(PthBounds, StorageMustHoldExactlyTheDeclaredBytes) {
  const std::vector<float> v{1, 2, 3, 4};
  EXPECT_EQ(read_pth(span_of(pth_with_storage(4, test::bytes_of(v), false)), "ok", kLimits)[0].data, test::bytes_of(v));
  EXPECT_EQ(read_pth(span_of(pth_with_storage(4, test::bytes_of(v), true)), "ok", kLimits)[0].data, test::bytes_of(v));
  expect_refused(kPth, pth_with_storage(2, test::bytes_of(v), false), "holds 16 bytes but the pickle declares 8");
  expect_refused(kPth, pth_with_storage(8, test::bytes_of(v), false), "holds 16 bytes but the pickle declares 32");
  // A view reaching past its (correctly sized) storage.
  const std::string pickle = test::torch_tensor_pickle("FloatStorage", 4, 2, {3}, {1});
  expect_refused(kPth, test::zip_archive({{"a/data.pkl", bytes_of_string(pickle)}, {"a/data/0", test::bytes_of(v)}}),
                 "reaches past the end of its storage");
}

// Runs aitdb with stdout and stderr discarded; returns its exit code and its own peak RSS in KiB
// (wait4 reports this child alone, unlike RUSAGE_CHILDREN).
std::pair<int, long> run_aitdb_measuring_rss(const std::vector<std::string>& args) {
  std::vector<std::string> argv_s{AITDB_BIN};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  ::wait4(pid, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss};
}

// Finding: a 1 MB .pth whose storage inflates to 1 GiB was ingested at 1.06 GB peak RSS. Now the
// inflate ratio is checked from the central directory before a byte is inflated.
TEST(PthBounds, DecompressionBombIsRefusedBeforeInflating) {
  TempDir d;
  const auto bomb_path = d / "bomb.pth";
  // Built in a child process, so that this process stays small for the RSS measurement below.
  constexpr std::uint64_t kNumel = 64ULL << 20U;  // 256 MiB of zero floats, about 256 KiB deflated
  const pid_t writer = ::fork();
  if (writer == 0) {
    test::write_file(bomb_path, pth_with_storage(kNumel, std::vector<std::byte>(kNumel * 4), true));
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string bomb = test::read_file(bomb_path);
  ASSERT_LT(bomb.size(), 2U << 20U);
  expect_refused(kPth, bomb, "more than 100 times (refused as a decompression bomb)");
  // The CLI refuses it too, and its peak RSS stays far below what inflating would take.
  const auto r = test::run_aitdb({"ingest", "--db", (d / "x.db").string(), bomb_path.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("decompression bomb"), std::string::npos) << r.err;
  const auto [exit_code, peak_kib] =
      run_aitdb_measuring_rss({"ingest", "--db", (d / "y.db").string(), bomb_path.string()});
  EXPECT_NE(exit_code, 0);
  EXPECT_LT(peak_kib, 200L * 1024) << "KiB; inflating would need 256 MiB";
}

// Finding: a file name with a newline split the one-line "PATH: reason" message.
TEST(OneLineErrors, ControlCharactersInNamesAreEscaped) {
  const FormatError e("dump/a\nb\x01.npy", "tensor 'x\ty' is bad");
  EXPECT_STREQ(e.what(), "dump/a\\nb\\x01.npy: tensor 'x\\ty' is bad");
  EXPECT_EQ(e.path(), "dump/a\nb\x01.npy");  // the raw name stays available, e.g. for the database
  EXPECT_EQ(one_line_message("", "r\r"), "r\\r");

  TempDir d;
  const std::string name = "bad\nname.npy";
  test::write_file(d / "dump" / name, test::npy("<f4", {4}, {}));
  const auto r = test::run_aitdb({"ingest", "--db", (d / "w.db").string(), (d / "dump").string()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, (d / "dump").string() + "/bad\\nname.npy: truncated payload: shape needs 16 bytes, file has 0\n" +
                       "aitdb: wrote " + (d / "w.db").string() + "\n");
  const auto single = test::run_aitdb({"ingest", "--db", (d / "w.db").string(), (d / "dump" / name).string()});
  EXPECT_NE(single.err.find("bad\\nname.npy: truncated payload"), std::string::npos) << single.err;
  EXPECT_EQ(single.err.find("\nname.npy"), std::string::npos) << single.err;
}

}  // namespace
}  // namespace aitdb::ingest
