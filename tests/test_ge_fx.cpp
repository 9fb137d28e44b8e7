// GE graph-mode dumps (binary dump files, names, directories, graph text) and FX dumps. GE files
// are built here with the project's own ge_dump.proto, so the tests also pin its field numbers.
#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <functional>

#include "aitdb/ingest/fx_dump.h"
#include "aitdb/ingest/ge_dump.h"
#include "aitdb/ingest/ge_graph_text.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/ingest/layout.h"
#include "aitdb/schema/errors.h"
#include "ge_dump.pb.h"
#include "test_support.h"

namespace aitdb::ingest {
namespace {

namespace pb = toolkit::dumpdata;
using test::TempDir;
using namespace std::string_literals;
const ReadLimits kLimits{};

using test::split_path;

// u64 LE header length, the serialized header, then the data region.
std::vector<std::byte> ge_file(const pb::DumpData& header, const std::vector<std::byte>& data) {
  const std::string h = header.SerializeAsString();
  std::vector<std::byte> out(8);
  std::uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<std::size_t>(i)] = static_cast<std::byte>((n >> (8U * i)) & 0xFFU);
  const auto hb = test::bytes_of(h);
  out.insert(out.end(), hb.begin(), hb.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void set_shape(pb::Shape* s, const std::vector<std::uint64_t>& dims) {
  for (const auto d : dims) s->add_dim(d);
}

pb::OpInput* add_input(pb::DumpData& d, int dtype, int format, const std::vector<std::uint64_t>& shape,
                       std::uint64_t size) {
  auto* in = d.add_input();
  in->set_data_type(static_cast<pb::OutputDataType>(dtype));
  in->set_format(static_cast<pb::OutputFormat>(format));
  set_shape(in->mutable_shape(), shape);
  in->set_size(size);
  set_shape(in->mutable_original_shape(), shape);
  return in;
}

std::vector<std::byte> concat(std::vector<std::byte> a, const std::vector<std::byte>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// formats.md's worked example: Add_2, fp16 input [2,2] = 1..4, fp32 output [2,2] = 1..4.
std::vector<std::byte> worked_example() {
  pb::DumpData d;
  d.set_version("2.0");
  d.set_dump_time(1706596912161941ULL);
  auto* out = d.add_output();
  out->set_data_type(pb::DT_FLOAT);
  out->set_format(pb::FORMAT_ND);
  set_shape(out->mutable_shape(), {2, 2});
  out->set_size(16);
  set_shape(out->mutable_original_shape(), {2, 2});
  add_input(d, pb::DT_FLOAT16, pb::FORMAT_ND, {2, 2}, 8);
  d.set_op_name("Add_2");
  const std::vector<std::uint16_t> halves{0x3c00, 0x4000, 0x4200, 0x4400};
  return ge_file(d, concat(test::bytes_of(halves), test::bytes_of(std::vector<float>{1, 2, 3, 4})));
}

std::vector<std::byte> hex_bytes(const std::string& hex) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<std::byte>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    i += 2;
  }
  return out;
}

void expect_worked_example_values(const GeDump& d) {
  EXPECT_EQ(d.version, "2.0");
  EXPECT_EQ(d.dump_time, 1706596912161941ULL);
  EXPECT_EQ(d.op_name, "Add_2");
  ASSERT_EQ(d.inputs.size(), 1U);
  ASSERT_EQ(d.outputs.size(), 1U);
  const auto& in = d.inputs[0];
  ASSERT_TRUE(in.tensor) << in.refusal;
  EXPECT_EQ(in.tensor->name, "input.0");
  EXPECT_EQ(in.tensor->dtype, DType::Float16);
  EXPECT_EQ(in.tensor->shape, (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(in.tensor->data, test::bytes_of(std::vector<std::uint16_t>{0x3c00, 0x4000, 0x4200, 0x4400}));
  const auto& out = d.outputs[0];
  ASSERT_TRUE(out.tensor) << out.refusal;
  EXPECT_EQ(out.tensor->name, "output.0");
  EXPECT_EQ(out.tensor->dtype, DType::Float32);
  EXPECT_EQ(out.tensor->format, 2);
  EXPECT_EQ(out.tensor->data, test::bytes_of(std::vector<float>{1, 2, 3, 4}));
  EXPECT_EQ(out.ge_dtype, 1);
  EXPECT_EQ(out.size, 16U);
}

TEST(GeDump, WorkedExampleIsByteExactAndDecodes) {
  const auto file = worked_example();
  const auto expected = hex_bytes(
      "3d 00 00 00 00 00 00 00"
      " 0a 03 32 2e 30"
      " 10 95 c9 e5 f5 c0 84 84 03"
      " 1a 12 08 01 10 02 1a 04 0a 02 02 02 30 10 3a 04 0a 02 02 02"
      " 22 12 08 02 10 02 1a 04 0a 02 02 02 28 08 32 04 0a 02 02 02"
      " 32 05 41 64 64 5f 32"
      " 00 3c 00 40 00 42 00 44"
      " 00 00 80 3f 00 00 00 40 00 00 40 40 00 00 80 40");
  EXPECT_EQ(file.size(), 93U);
  EXPECT_EQ(file, expected);
  expect_worked_example_values(read_ge_dump(file, "mem"));
  TempDir dir;
  test::write_file(dir / "Add.Add_2.44.6.1706596912161941", file);
  expect_worked_example_values(read_ge_dump(dir / "Add.Add_2.44.6.1706596912161941", kLimits));
  EXPECT_TRUE(looks_like_ge_dump(file, file.size()));
}

TEST(GeDump, SharedSyntheticFixture) {
  const auto shared = test::shared_fixtures();
  if (!shared) GTEST_SKIP() << "../shared is absent";
  const auto path = *shared / "synthetic" / "ge_Add.Add_2.44.6.1706596912161941";
  EXPECT_EQ(test::bytes_of(test::read_file(path)), worked_example());
  expect_worked_example_values(read_ge_dump(path, kLimits));
}

// `parse` must throw a FormatError about display path `path` whose reason contains `needle`.
void expect_format_error(const std::function<void()>& parse, const std::string& path, const std::string& needle) {
  try {
    parse();
    FAIL() << "accepted bad input; expected: " << needle;
  } catch (const FormatError& e) {
    EXPECT_EQ(e.path(), path);
    EXPECT_NE(e.reason().find(needle), std::string::npos) << e.reason();
  }
}

void expect_ge_refused(const std::vector<std::byte>& file, const std::string& needle) {
  expect_format_error([&] { read_ge_dump(file, "hostile"); }, "hostile", needle);
}

TEST(GeDump, RefusesLyingLengthsTruncationAndTrailingBytes) {
  const auto good = worked_example();
  expect_ge_refused({}, "too short");
  expect_ge_refused(std::vector<std::byte>(good.begin(), good.begin() + 5), "too short");
  auto lying = good;
  lying[0] = std::byte{0x60};  // H = 96 > 85 remaining
  expect_ge_refused(lying, "runs past the end of the file");
  lying = good;
  lying[7] = std::byte{0x80};  // H = 2^63 + 61
  expect_ge_refused(lying, "runs past the end of the file");
  expect_ge_refused(std::vector<std::byte>(good.begin(), good.end() - 1), "runs past the end");
  auto trailing = good;
  trailing.push_back(std::byte{0});
  expect_ge_refused(trailing, "1 more bytes follow the header");
  auto garbage = hex_bytes("0400000000000000 ffffffff");
  expect_ge_refused(garbage, "not a DumpData");
  // A header that fits but whose data region is shorter than the header is long.
  std::vector<std::byte> big_h(8 + 1000, std::byte{0});
  big_h[0] = std::byte{0xe8};
  big_h[1] = std::byte{0x03};
  expect_ge_refused(big_h, "not a DumpData");
}

TEST(GeDump, RefusesLyingSizesHugeCountsAndOverflowingShapes) {
  pb::DumpData d;
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, {2, 2}, 8);  // [2,2] fp32 needs 16
  expect_ge_refused(ge_file(d, std::vector<std::byte>(8)), "needs 16 bytes but its size is 8");

  d.Clear();
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, {1ULL << 40U, 1ULL << 40U}, 4);
  expect_ge_refused(ge_file(d, std::vector<std::byte>(4)), "overflows");

  d.Clear();
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, {1ULL << 63U}, 4);
  expect_ge_refused(ge_file(d, std::vector<std::byte>(4)), "unknown (dynamic) dim");

  d.Clear();
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, std::vector<std::uint64_t>(65, 1), 4);
  expect_ge_refused(ge_file(d, std::vector<std::byte>(4)), "more than 64 dims");

  d.Clear();
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, {1}, 1ULL << 62U);
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, {1}, 1ULL << 62U);
  expect_ge_refused(ge_file(d, std::vector<std::byte>(4)), "input 0 size 4611686018427387904 runs past the end");

  d.Clear();
  for (int i = 0; i < 70000; ++i) d.add_input();
  expect_ge_refused(ge_file(d, {}), "more than 65536");

  d.Clear();
  add_input(d, pb::DT_FLOAT, pb::FORMAT_ND, {1}, 4)->set_data("abcd");
  expect_ge_refused(ge_file(d, std::vector<std::byte>(4)), "inline data");
}

TEST(GeDump, RefusesOnlyTheTensorsItCannotStore) {
  pb::DumpData d;
  add_input(d, pb::DT_STRING, pb::FORMAT_ND, {3}, 3);
  add_input(d, pb::DT_FLOAT16, pb::FORMAT_NC1HWC0, {1, 1, 1, 1, 2}, 4);
  add_input(d, pb::DT_FLOAT, pb::FORMAT_FRACTAL_NZ, {1, 1, 1, 1}, 4)->clear_original_shape();
  add_input(d, pb::DT_INT32, pb::FORMAT_ND, {2}, 12);  // 4 bytes of padding after the tensor
  auto* buf = d.add_buffer();
  buf->set_size(5);
  std::vector<std::byte> data(3 + 4 + 4);
  const auto ints = test::bytes_of(std::vector<std::int32_t>{7, -8, 99});
  data.insert(data.end(), ints.begin(), ints.end());
  data.resize(data.size() + 5);
  const GeDump g = read_ge_dump(ge_file(d, data), "mixed");
  ASSERT_EQ(g.inputs.size(), 4U);
  EXPECT_FALSE(g.inputs[0].tensor);
  EXPECT_NE(g.inputs[0].refusal.find("DT_STRING"), std::string::npos) << g.inputs[0].refusal;
  EXPECT_FALSE(g.inputs[1].tensor);
  EXPECT_NE(g.inputs[1].refusal.find("NC1HWC0"), std::string::npos) << g.inputs[1].refusal;
  EXPECT_FALSE(g.inputs[2].tensor);
  EXPECT_NE(g.inputs[2].refusal.find("FRACTAL_NZ without a known original shape"), std::string::npos);
  ASSERT_TRUE(g.inputs[3].tensor);
  EXPECT_EQ(g.inputs[3].tensor->name, "input.3");
  EXPECT_EQ(g.inputs[3].tensor->data, test::bytes_of(std::vector<std::int32_t>{7, -8}));
  EXPECT_EQ(g.inputs[3].tensor->flags, "padding_bytes=4");
  EXPECT_EQ(g.buffer_count, 1U);
  EXPECT_EQ(g.buffer_bytes, 5U);
}

TEST(GeDump, HostShapeNamesPlainLayoutsAndDynamicHostDimsAreDropped) {
  pb::DumpData d;
  auto* in = add_input(d, pb::DT_BF16, pb::FORMAT_NCHW, {4}, 8);
  in->clear_original_shape();
  set_shape(in->mutable_original_shape(), {2, 1, 2});
  auto* dyn = add_input(d, pb::DT_INT8, pb::FORMAT_ND, {3}, 3);
  dyn->clear_original_shape();
  set_shape(dyn->mutable_original_shape(), {UINT64_MAX});
  const auto g = read_ge_dump(ge_file(d, std::vector<std::byte>(11, std::byte{1})), "m");
  ASSERT_TRUE(g.inputs[0].tensor);
  EXPECT_EQ(g.inputs[0].tensor->dtype, DType::BFloat16);
  EXPECT_EQ(g.inputs[0].tensor->shape, (std::vector<std::int64_t>{2, 1, 2}));
  EXPECT_EQ(g.inputs[0].tensor->format, 0);
  EXPECT_FALSE(g.inputs[1].original_shape);
  EXPECT_EQ(g.inputs[1].tensor->shape, (std::vector<std::int64_t>{3}));
}

// Device buffer of an NZ tensor built in device order (block by block), independently of the
// reader's index formula: padding holds -1.
std::vector<float> nz_device(std::int64_t batch, std::int64_t w1, std::int64_t h1, std::int64_t h0, std::int64_t w0,
                             std::int64_t rows, std::int64_t cols,
                             const std::function<float(std::int64_t, std::int64_t, std::int64_t)>& v) {
  std::vector<float> dev;
  for (std::int64_t t = 0; t < batch; ++t)
    for (std::int64_t a = 0; a < w1; ++a)
      for (std::int64_t b = 0; b < h1; ++b)
        for (std::int64_t c = 0; c < h0; ++c)
          for (std::int64_t e = 0; e < w0; ++e) {
            const std::int64_t h = b * h0 + c;
            const std::int64_t w = a * w0 + e;
            dev.push_back(h < rows && w < cols ? v(t, h, w) : -1.0F);
          }
  return dev;
}

TEST(GeDump, FractalNzIsConvertedToNd) {
  const auto value = [](std::int64_t t, std::int64_t h, std::int64_t w) {
    return static_cast<float>(100 * t + 10 * h + w);
  };
  pb::DumpData d;
  // [3,5] in blocks of 2 rows x 4 columns: device [W1=2, H1=2, H0=2, W0=4].
  const auto dev2 = nz_device(1, 2, 2, 2, 4, 3, 5, value);
  auto* a = add_input(d, pb::DT_FLOAT, pb::FORMAT_FRACTAL_NZ, {2, 2, 2, 4}, dev2.size() * 4);
  a->clear_original_shape();
  set_shape(a->mutable_original_shape(), {3, 5});
  // Batched [2,3,5] → device [2, 2, 2, 2, 4]; 1-D [5] → device [2, 1, 1, 4].
  const auto dev3 = nz_device(2, 2, 2, 2, 4, 3, 5, value);
  auto* out = d.add_output();
  out->set_data_type(pb::DT_FLOAT);
  out->set_format(pb::FORMAT_FRACTAL_NZ);
  set_shape(out->mutable_shape(), {2, 2, 2, 2, 4});
  set_shape(out->mutable_original_shape(), {2, 3, 5});
  out->set_size(dev3.size() * 4);
  const auto dev1 = nz_device(1, 2, 1, 1, 4, 1, 5, value);
  auto* one = add_input(d, pb::DT_FLOAT, pb::FORMAT_FRACTAL_NZ, {2, 1, 1, 4}, dev1.size() * 4);
  one->clear_original_shape();
  set_shape(one->mutable_original_shape(), {5});
  auto* bad = add_input(d, pb::DT_FLOAT, pb::FORMAT_FRACTAL_NZ, {1, 1, 1, 4}, 16);
  bad->clear_original_shape();
  set_shape(bad->mutable_original_shape(), {1, 5});  // 5 columns do not fit one block of 4
  auto data = concat(test::bytes_of(dev2), test::bytes_of(dev1));
  data = concat(data, std::vector<std::byte>(16));
  data = concat(data, test::bytes_of(dev3));
  const auto g = read_ge_dump(ge_file(d, data), "nz");

  std::vector<float> expect2;
  for (int h = 0; h < 3; ++h)
    for (int w = 0; w < 5; ++w) expect2.push_back(static_cast<float>(10 * h + w));
  ASSERT_TRUE(g.inputs[0].tensor) << g.inputs[0].refusal;
  EXPECT_EQ(g.inputs[0].tensor->shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(g.inputs[0].tensor->format, 2);
  EXPECT_EQ(g.inputs[0].tensor->flags, "converted_from=FRACTAL_NZ");
  EXPECT_EQ(g.inputs[0].tensor->data, test::bytes_of(expect2));
  ASSERT_TRUE(g.inputs[1].tensor) << g.inputs[1].refusal;
  EXPECT_EQ(g.inputs[1].tensor->data, test::bytes_of(std::vector<float>{0, 1, 2, 3, 4}));
  EXPECT_FALSE(g.inputs[2].tensor);
  EXPECT_NE(g.inputs[2].refusal.find("cannot hold original shape [1,5]"), std::string::npos) << g.inputs[2].refusal;
  std::vector<float> expect3 = expect2;
  for (const float f : expect2) expect3.push_back(f + 100);
  ASSERT_TRUE(g.outputs[0].tensor) << g.outputs[0].refusal;
  EXPECT_EQ(g.outputs[0].tensor->shape, (std::vector<std::int64_t>{2, 3, 5}));
  EXPECT_EQ(g.outputs[0].tensor->data, test::bytes_of(expect3));
}

TEST(GeDump, SniffingTellsGeDumpsFromOtherFiles) {
  const auto ge = worked_example();
  EXPECT_TRUE(looks_like_ge_dump(ge, ge.size()));
  EXPECT_FALSE(looks_like_ge_dump(ge, 40));  // header longer than the file
  const auto st = test::bytes_of(test::safetensors({{"a", "F32", {1}, std::vector<std::byte>(4)}}));
  EXPECT_FALSE(looks_like_ge_dump(st, st.size()));
  const auto npy = test::bytes_of(test::npy("<f4", {1}, std::vector<std::byte>(4)));
  EXPECT_FALSE(looks_like_ge_dump(npy, npy.size()));
}

TEST(GeDumpName, SplitsTypeDottedNameAndIds) {
  auto n = parse_ge_dump_name("Add.Add_2.44.6.1706596912161941");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->op_type, "Add");
  EXPECT_EQ(n->op_name, "Add_2");
  EXPECT_EQ(n->task_id, 44);
  EXPECT_EQ(n->stream_id, 6);
  EXPECT_EQ(n->timestamp, "1706596912161941");
  n = parse_ge_dump_name("TransData.TransData_1.1.42.6.17005969121581");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->op_name, "TransData_1.1");
  EXPECT_EQ(n->task_id, 42);
  n = parse_ge_dump_name("AutomaticBufferFusionOp.Add_2Cast_9ConcatV2.3.1.1706596912161999");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->op_type, "AutomaticBufferFusionOp");
  EXPECT_EQ(n->op_name, "Add_2Cast_9ConcatV2");
  EXPECT_FALSE(parse_ge_dump_name("Add.Add_2.44.1706596912161941"));  // four parts
  EXPECT_FALSE(parse_ge_dump_name("Add.Add_2.x.6.1706596912161941"));
  EXPECT_FALSE(parse_ge_dump_name("Add..44.6.1706596912161941"));
  EXPECT_FALSE(parse_ge_dump_name("Add.Add_2.44.6.1706596912161941.npy"));
  EXPECT_FALSE(parse_ge_dump_name("dynamo_original_graph_1_rank_0_pid_7_ts_20240101.txt"));
}

TEST(GeDumpPath, RankFoldersTimeDeviceModelAndToken) {
  auto p = parse_ge_dump_path(
      split_path("msit_ge_dump/worldsize2_global_rank1/20240125031118/3/graph_1/7/12/Add.Add_2.44.6.1706596912161941"));
  ASSERT_TRUE(p);
  ASSERT_TRUE(p->rank_folder);
  EXPECT_EQ(p->rank_folder->name, "worldsize2_global_rank1");
  EXPECT_EQ(p->rank_folder->world_size, 2);
  EXPECT_EQ(p->rank_folder->rank, 1);
  EXPECT_EQ(p->time, "20240125031118");
  EXPECT_EQ(p->device_id, 3);
  EXPECT_EQ(p->model_name, "graph_1");
  EXPECT_EQ(p->model_id, 7);
  EXPECT_EQ(p->token, 12);
  EXPECT_EQ(p->name.op_name, "Add_2");
  p = parse_ge_dump_path(split_path("20240125031118/0/ge_default_20200808163719_121/1/0/Cast.Cast_9.1.2.3"));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->rank_folder);
  EXPECT_EQ(p->model_name, "ge_default_20200808163719_121");
  EXPECT_EQ(p->token, 0);
  EXPECT_FALSE(parse_ge_dump_path(split_path("2024012503111/0/g/1/0/Cast.Cast_9.1.2.3")));  // 13-digit time
  EXPECT_FALSE(parse_ge_dump_path(split_path("20240125031118/0/g/x/0/Cast.Cast_9.1.2.3")));
  EXPECT_FALSE(parse_ge_dump_path(split_path("20240125031118/0/g/1/Cast.Cast_9.1.2.3")));
  const auto r = parse_rank_folder("worldsize8_global_rank7");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->world_size, 8);
  EXPECT_EQ(r->rank, 7);
  EXPECT_FALSE(parse_rank_folder("worldsize8_rank7"));
}

TEST(GeTreeLayout, ClassifiesDumpFilesGraphTextAndStrays) {
  const auto l = make_ge_tree_layout({});
  auto c = l->classify(
      split_path("msit_ge_dump/worldsize2_global_rank0/20240125031118/0/graph_1/1/3/Mul.Mul_1.1.7.1706596912161941"));
  ASSERT_EQ(c.role, FileRole::Tensor);
  EXPECT_EQ(c.place.rank_key, "worldsize2_global_rank0");
  EXPECT_EQ(c.place.device_id, 0);
  EXPECT_EQ(c.place.token, 3);
  EXPECT_EQ(c.place.graph, "graph_1/1");
  EXPECT_EQ(c.place.op_path, "Mul_1");
  EXPECT_EQ(c.place.op_names, R"(["Mul_1"])");
  EXPECT_EQ(c.place.op_type, "Mul");
  EXPECT_FALSE(c.place.io);
  ASSERT_TRUE(c.node);
  EXPECT_EQ(c.node->rank_key, "worldsize2_global_rank0");
  EXPECT_EQ(c.node->folder, "3");
  GeDumpTensor t;
  t.is_input = false;
  t.index = 2;
  const auto placed = ge_tensor_place(c.place, t);
  EXPECT_EQ(placed.io, "out");
  EXPECT_EQ(placed.io_index, 2);
  EXPECT_EQ(placed.op_path, "Mul_1");

  c = l->classify(split_path("msit_ge_dump/dynamo_original_graph_1_rank_0_pid_7_ts_20240125031118787351.txt"));
  EXPECT_EQ(c.role, FileRole::Aux);
  c = l->classify(split_path("odd/5/Cast.Cast_2.1.2.3"));  // off the layout: parent dir is the token
  EXPECT_EQ(c.role, FileRole::Tensor);
  EXPECT_EQ(c.place.token, 5);
  EXPECT_FALSE(c.place.graph);
  EXPECT_EQ(l->classify(split_path("20240125031118/0/g/1/0/readme")).role, FileRole::Other);
  const auto prefixed = make_ge_tree_layout({"dumps"});
  EXPECT_EQ(prefixed->classify(split_path("other/0/Cast.Cast_2.1.2.3")).role, FileRole::Other);
  EXPECT_EQ(prefixed->classify(split_path("dumps/20240125031118/0/g/1/0/Cast.Cast_2.1.2.3")).place.token, 0);
}

TEST(FxDumpName, NodeTargetIoIndexAndTimestamp) {
  auto n = parse_fx_dump_name("mm-aten.mm.default.INPUT.0.20240125031118787351.npy");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->node, "mm");
  EXPECT_EQ(n->target, "aten.mm.default");
  EXPECT_EQ(n->key, "mm-aten.mm.default");
  EXPECT_TRUE(n->is_input);
  EXPECT_EQ(n->index, 0);
  EXPECT_FALSE(n->subindex);
  EXPECT_EQ(n->timestamp, "20240125031118787351");
  n = parse_fx_dump_name("add_1-aten.add.Tensor.OUTPUT.1.20251017071211190258.npy");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->node, "add_1");
  EXPECT_FALSE(n->is_input);
  EXPECT_EQ(n->index, 1);
  n = parse_fx_dump_name("cat-aten.cat.default.INPUT.0.12.20240125031118787351.npy");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->index, 0);
  EXPECT_EQ(n->subindex, 12);
  EXPECT_FALSE(parse_fx_dump_name("mm-aten.mm.default.INPUT.0.20240125031118787351.bin"));
  EXPECT_FALSE(parse_fx_dump_name("mm-aten.mm.default.0.20240125031118787351.npy"));
  EXPECT_FALSE(parse_fx_dump_name("mm.INPUT.0.20240125031118787351.npy"));  // no '-'
  EXPECT_FALSE(parse_fx_dump_name("mm-aten.mm.default.INPUT.0.npy"));       // no timestamp
  EXPECT_FALSE(parse_fx_dump_name("mm-aten.mm.default.INPUT.a.1.npy"));
}

TEST(FxDumpPath, RankAndLegacyLayouts) {
  auto p = parse_fx_dump_path(split_path(
      "msit_fx_dump/worldsize4_global_rank3/gm_20240125031118787351_dump/2/mm-aten.mm.default.OUTPUT.0.1.npy"));
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->legacy);
  ASSERT_TRUE(p->rank_folder);
  EXPECT_EQ(p->rank_folder->name, "worldsize4_global_rank3");
  EXPECT_EQ(p->rank_folder->rank, 3);
  EXPECT_EQ(p->rank_folder->world_size, 4);
  EXPECT_EQ(p->model, "gm_20240125031118787351_dump");
  EXPECT_EQ(p->token, 2);
  p = parse_fx_dump_path(split_path("data_dump/1/gm_20240125031118787351_dump/mm-aten.mm.default.INPUT.1.5.npy"));
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->legacy);
  EXPECT_FALSE(p->rank_folder);
  EXPECT_EQ(p->token, 0);  // folder 1 is token 0
  EXPECT_EQ(p->name.index, 1);
  p = parse_fx_dump_path(split_path("msit_fx_dump/data_dump/3/gm_1_dump/mm-aten.mm.default.INPUT.0.5.npy"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->token, 2);
  p = parse_fx_dump_path(split_path("4/gm_1_dump/mm-aten.mm.default.INPUT.0.5.npy"));  // root at data_dump
  ASSERT_TRUE(p);
  EXPECT_EQ(p->token, 3);
  EXPECT_FALSE(parse_fx_dump_path(split_path("data_dump/0/gm_1_dump/mm-aten.mm.default.INPUT.0.5.npy")));
  EXPECT_FALSE(parse_fx_dump_path(split_path("worldsize1_global_rank0/g/x/mm-aten.mm.default.INPUT.0.5.npy")));
  EXPECT_FALSE(parse_fx_dump_path(split_path("worldsize1_global_rank0/g/0/notes.npy")));
}

TEST(FxTreeLayout, ClassifiesBothLayouts) {
  const auto l = make_fx_tree_layout({});
  auto c = l->classify(
      split_path("worldsize2_global_rank1/graph_1/0/cat-aten.cat.default.INPUT.0.3.20240125031118787351.npy"));
  ASSERT_EQ(c.role, FileRole::Tensor);
  EXPECT_EQ(c.place.rank_key, "worldsize2_global_rank1");
  EXPECT_EQ(c.place.token, 0);
  EXPECT_EQ(c.place.graph, "graph_1");
  EXPECT_EQ(c.place.op_path, "cat-aten.cat.default");
  EXPECT_EQ(c.place.op_names, R"(["cat"])");
  EXPECT_EQ(c.place.op_type, "aten.cat.default");
  EXPECT_EQ(c.place.io, "in");
  EXPECT_EQ(c.place.io_index, 0);
  EXPECT_EQ(c.place.io_subindex, 3);
  c = l->classify(
      split_path("data_dump/2/gm_20240125031118787351_dump/mm-aten.mm.default.OUTPUT.0.20240125031118787351.npy"));
  ASSERT_EQ(c.role, FileRole::Tensor);
  EXPECT_FALSE(c.place.rank_key);
  EXPECT_EQ(c.place.token, 1);
  EXPECT_EQ(c.place.io, "out");
  c = l->classify(split_path("loose/mm-aten.mm.default.OUTPUT.0.20240125031118787351.npy"));
  EXPECT_EQ(c.role, FileRole::Tensor);
  EXPECT_FALSE(c.place.token);
  EXPECT_EQ(c.place.op_path, "mm-aten.mm.default");
  EXPECT_EQ(l->classify(split_path("data_dump/1/gm_1_dump/other.npy")).role, FileRole::Tensor);
  EXPECT_FALSE(l->classify(split_path("data_dump/1/gm_1_dump/other.npy")).place.op_path);
  EXPECT_EQ(l->classify(split_path("data_dump/1/notes.txt")).role, FileRole::Aux);
}

// A numpy unicode array: UTF-32LE code points padded with NULs to `chars` per element.
std::string npy_unicode(const std::vector<std::u32string>& items, std::size_t chars, std::vector<std::int64_t> shape) {
  std::vector<std::byte> data;
  for (const auto& s : items) {
    for (std::size_t i = 0; i < chars; ++i) {
      const std::uint32_t c = i < s.size() ? static_cast<std::uint32_t>(s[i]) : 0;
      for (int b = 0; b < 4; ++b) data.push_back(static_cast<std::byte>((c >> (8U * b)) & 0xFFU));
    }
  }
  return test::npy("<U" + std::to_string(chars), shape, data);
}

TEST(FxDumpFile, StringArgumentsAreNonTensorArgumentsAndNumbersAreTensors) {
  TempDir d;
  test::write_file(d / "a.npy", npy_unicode({U"torch.float16"}, 13, {}));
  auto v = read_fx_dump_file(d / "a.npy", kLimits);
  ASSERT_TRUE(std::holds_alternative<FxNonTensorArgument>(v));
  EXPECT_EQ(std::get<FxNonTensorArgument>(v).text, "torch.float16");
  test::write_file(d / "none.npy", npy_unicode({U"None"}, 8, {}));
  EXPECT_EQ(std::get<FxNonTensorArgument>(read_fx_dump_file(d / "none.npy", kLimits)).text, "None");
  test::write_file(d / "list.npy", npy_unicode({U"a", U"\u00e9\U0001F600"}, 2, {2}));
  EXPECT_EQ(std::get<FxNonTensorArgument>(read_fx_dump_file(d / "list.npy", kLimits)).text,
            "a, \xc3\xa9\xf0\x9f\x98\x80");
  test::write_file(d / "bytes.npy", test::npy("|S4", {}, test::bytes_of("ab\0\0"s)));
  EXPECT_EQ(std::get<FxNonTensorArgument>(read_fx_dump_file(d / "bytes.npy", kLimits)).text, "ab");
  test::write_file(d / "i.npy", test::npy("<i8", {}, test::bytes_of(std::vector<std::int64_t>{-3})));
  v = read_fx_dump_file(d / "i.npy", kLimits);
  ASSERT_TRUE(std::holds_alternative<DecodedTensor>(v));
  EXPECT_EQ(std::get<DecodedTensor>(v).dtype, DType::Int64);
  EXPECT_TRUE(std::get<DecodedTensor>(v).shape.empty());
  EXPECT_EQ(std::get<DecodedTensor>(v).data, test::bytes_of(std::vector<std::int64_t>{-3}));

  const std::string full = npy_unicode({U"abc"}, 3, {});
  test::write_file(d / "short.npy", full.substr(0, full.size() - 4));
  EXPECT_THROW(read_fx_dump_file(d / "short.npy", kLimits), FormatError);
  test::write_file(d / "huge.npy", npy_unicode({}, 4, {1LL << 40, 1LL << 40}));
  EXPECT_THROW(read_fx_dump_file(d / "huge.npy", kLimits), FormatError);
  test::write_file(d / "bad.npy", test::npy("<U1", {}, test::bytes_of("\x00\xd8\x00\x00"s)));  // a surrogate
  EXPECT_THROW(read_fx_dump_file(d / "bad.npy", kLimits), FormatError);
}

const char* const kGraphText = R"(name: "graph_1"
input: "arg0_1:0"
output: "Add_2:0"
# torchair writes one field per line
op {
  name: "arg0_1"
  type: "Data"
  output_desc {
    name: "y"
    dtype: DT_FLOAT16
    shape {
      dim: 2
      dim: -1
    }
    layout: "ND"
  }
}
op {
  name: "Split_1"
  type: "SplitV"
  input: "arg0_1:0"
  input: ""
  input: "Const_3:-1"
  attr {
    key: "num_split"
    value {
      i: 2
    }
  }
  attr {
    key: "_note"
    value {
      s: "tab\there \"quoted\" \303\251 \x41"
    }
  }
  output_desc {
    name: "y0"
    attr {
      key: "_fx_tensor_name"
      value {
        s: "split-aten.split.Tensor.OUTPUT.0"
      }
    }
  }
  output_desc {
    name: "y1"
    attr {
      key: "_fx_tensor_name"
      value {
        s: "split-aten.split.Tensor.OUTPUT.1"
      }
    }
  }
}
op { name: "Add_2" type: "Add" input: "Split_1:0" input: "Split_1:1" }
)";

TEST(GeGraphText, OpsInOrderWithInputsAttrsAndEveryOutputDesc) {
  const GeGraph g = parse_ge_graph_text(kGraphText, "g.txt");
  EXPECT_EQ(g.name, "graph_1");
  EXPECT_EQ(g.inputs, std::vector<std::string>{"arg0_1:0"});
  EXPECT_EQ(g.outputs, std::vector<std::string>{"Add_2:0"});
  ASSERT_EQ(g.ops.size(), 3U);
  EXPECT_EQ(g.ops[0].name, "arg0_1");
  ASSERT_EQ(g.ops[0].output_descs.size(), 1U);
  EXPECT_EQ(g.ops[0].output_descs[0].dtype, "DT_FLOAT16");
  EXPECT_EQ(g.ops[0].output_descs[0].layout, "ND");
  EXPECT_EQ(g.ops[0].output_descs[0].shape, (std::vector<std::int64_t>{2, -1}));
  EXPECT_FALSE(g.ops[0].output_descs[0].fx_tensor_name);

  const auto& split_op = g.ops[1];
  EXPECT_EQ(split_op.type, "SplitV");
  ASSERT_EQ(split_op.inputs.size(), 3U);
  EXPECT_EQ(split_op.inputs[0].producer, "arg0_1");
  EXPECT_EQ(split_op.inputs[0].index, 0);
  EXPECT_EQ(split_op.inputs[1].producer, "");
  EXPECT_FALSE(split_op.inputs[1].index);
  EXPECT_EQ(split_op.inputs[2].producer, "Const_3");
  EXPECT_EQ(split_op.inputs[2].index, -1);
  ASSERT_EQ(split_op.attrs.size(), 2U);
  EXPECT_EQ(split_op.attrs[0].key, "num_split");
  EXPECT_EQ(split_op.attrs[0].scalar(), "2");
  EXPECT_EQ(split_op.attrs[1].scalar(), "tab\there \"quoted\" \xc3\xa9 A");
  // Both outputs keep their FX names (msit keeps only the last).
  ASSERT_EQ(split_op.output_descs.size(), 2U);
  EXPECT_EQ(split_op.output_descs[0].name, "y0");
  EXPECT_EQ(split_op.output_descs[0].fx_tensor_name, "split-aten.split.Tensor.OUTPUT.0");
  EXPECT_EQ(split_op.output_descs[1].fx_tensor_name, "split-aten.split.Tensor.OUTPUT.1");

  // Single-line blocks parse like multi-line ones.
  EXPECT_EQ(g.ops[2].name, "Add_2");
  ASSERT_EQ(g.ops[2].inputs.size(), 2U);
  EXPECT_EQ(g.ops[2].inputs[1].producer, "Split_1");
  EXPECT_EQ(g.ops[2].inputs[1].index, 1);
}

TEST(GeGraphText, DuplicateKeysKeepOrderAndGetMsitNames) {
  const auto m = parse_pb_text(
      "op { input: \"a:0\" input: \"b:1\" attr { key: \"k\" } attr: { key: \"l\" } }\n"
      "op < name: 'x' > list: [1, 2, 3]",
      "p.txt");
  ASSERT_EQ(m.fields.size(), 5U);
  EXPECT_EQ(m.msit_key(0), "op");
  EXPECT_EQ(m.msit_key(1), "op#1");
  EXPECT_EQ(m.msit_key(3), "list#1");
  EXPECT_EQ(m.msit_key(4), "list#2");
  EXPECT_EQ(m.fields[4].value, "3");
  const auto& op = m.fields[0].message;
  EXPECT_EQ(op.msit_key(1), "input#1");
  EXPECT_EQ(op.msit_key(3), "attr#1");
  EXPECT_EQ(op.all("input").size(), 2U);
  EXPECT_EQ(op.all("attr")[1]->message.scalar("key"), "l");
  EXPECT_EQ(m.fields[1].message.scalar("name"), "x");
}

void expect_text_refused(const std::string& text, const std::string& needle) {
  expect_format_error([&] { parse_ge_graph_text(text, "bad.txt"); }, "bad.txt", needle);
}

TEST(GeGraphText, RefusesHostileText) {
  expect_text_refused("op {\n  name: \"a\n}\n", "line 2: unterminated string");
  expect_text_refused("op {\n  name: \"a\"\n", "ends before a closing '}'");
  expect_text_refused("op { name: \"a\" }\n}\n", "line 2: unexpected '}'");
  expect_text_refused("9abc: 1", "'9abc' is not a field name");
  expect_text_refused("a {" + std::string(200, '{'), "expected a name or value, found '{'");
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "m {\n";
  expect_text_refused(deep, "nested deeper than 64");
  expect_text_refused("name: \"" + std::string(2U << 20U, 'x') + "\"\n", "longer than 1 MiB");
  expect_text_refused("op { type: \"Add\" }", "op 0 has no name");
  expect_text_refused("op { name: \"a\" output_desc { shape { dim: two } } }", "shape dim 'two' is not an integer");
  expect_text_refused("op: \"x\"", "'op' should be a { … } block");
  expect_text_refused("name \"x\"", "followed by neither ':' nor '{'");
  expect_text_refused("name: \"\\q\"", "unknown escape");
  expect_text_refused("name: \"\\777\"", "bad octal escape");
  expect_text_refused("list: [1, 2", "lacks its closing ']'");
  expect_text_refused("name: @", "expected a name or value");
}

TEST(GeGraphText, ReadsAFile) {
  TempDir d;
  test::write_file(d / "dynamo_original_graph_1_rank_0_pid_7_ts_1.txt", std::string(kGraphText));
  const auto g = read_ge_graph_text(d / "dynamo_original_graph_1_rank_0_pid_7_ts_1.txt", kLimits);
  EXPECT_EQ(g.ops.size(), 3U);
  ReadLimits tiny;
  tiny.max_file_size = 10;
  EXPECT_THROW(read_ge_graph_text(d / "dynamo_original_graph_1_rank_0_pid_7_ts_1.txt", tiny), FormatError);
}

// The ingest pipeline reads GE-tree files (no extension) with the GE reader: refused tensors go
// to ingest_errors with the reason, the rest of the file is stored.
TEST(GeTreeIngest, DumpFilesAreReadAndRefusedTensorsRecorded) {
  TempDir d;
  const auto step = d / "msit_ge_dump/worldsize1_global_rank0/20240130123456/0/graph_1/1/0";
  test::write_file(step / "Add.Add_2.44.6.1706596912161941", worked_example());
  pb::DumpData mixed;
  add_input(mixed, pb::DT_STRING, pb::FORMAT_ND, {3}, 3);
  add_input(mixed, pb::DT_INT32, pb::FORMAT_ND, {2}, 8);
  std::vector<std::byte> data(3);
  const auto ints = test::bytes_of(std::vector<std::int32_t>{7, -8});
  data.insert(data.end(), ints.begin(), ints.end());
  test::write_file(step / "Cast.Cast_9.45.6.1706596912161942", ge_file(mixed, data));
  Store s((d / "w.db").string());
  std::vector<std::string> errors;
  IngestOptions o;
  o.on_error = [&](const std::string& path, const std::string& reason) { errors.push_back(path + ": " + reason); };
  const auto rep = ingest_path(s, d / "msit_ge_dump", o);
  EXPECT_EQ(rep.run_name, d.path().filename().string() + "/msit_ge_dump");  // a generic folder: named with its parent
  EXPECT_EQ(rep.flavour, "ge_tree");
  EXPECT_EQ(rep.tensors, 3U);
  ASSERT_EQ(errors.size(), 1U);
  EXPECT_NE(errors[0].find("Cast.Cast_9.45.6.1706596912161942: input.0 not stored: "), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("DT_STRING"), std::string::npos) << errors[0];
  std::int64_t stored_ints = 0;
  s.execute("SELECT count(*) FROM tensors WHERE source_kind = 'ge_dump' AND op_path = 'Cast_9' AND io = 'in' AND "
            "io_index = 1 AND token = 0",
            {}, [](const auto&) {}, [&](const std::vector<SqlValue>& r) { stored_ints = std::get<std::int64_t>(r[0]); });
  EXPECT_EQ(stored_ints, 1);
}

// FX string-argument files are recorded as arguments, not tensors and not errors.
TEST(FxTreeIngest, StringArgumentsAreRecordedWithoutFailing) {
  TempDir d;
  const auto step = d / "msit_fx_dump/worldsize1_global_rank0/graph_1/0";
  test::write_file(step / "add_1-aten.add.Tensor.INPUT.0.20240125031118787351.npy",
                   test::npy("<f4", {2}, test::bytes_of(std::vector<float>{1, 2})));
  test::write_file(step / "add_1-aten.add.Tensor.INPUT.1.20240125031118787351.npy", npy_unicode({U"None"}, 8, {}));
  Store s((d / "w.db").string());
  const auto rep = ingest_path(s, d / "msit_fx_dump", {});
  EXPECT_EQ(rep.flavour, "fx_tree");
  EXPECT_EQ(rep.tensors, 1U);
  EXPECT_EQ(rep.errors, 0U);
  std::string content;
  s.execute("SELECT content FROM files WHERE rel_path LIKE '%INPUT.1.%'", {}, [](const auto&) {},
            [&](const std::vector<SqlValue>& r) { content = std::get<std::string>(r[0]); });
  EXPECT_EQ(content, "None");
}

}  // namespace
}  // namespace aitdb::ingest
