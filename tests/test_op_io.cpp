// The probe's operation/kernel io CSVs and cpu_profiling files: the readers on real files and on
// hostile input, and what ingest makes of them inside an ATB tree (rows linked to op nodes and
// to the tensors their paths name; a bad line is one 'FILE:LINE: reason' error).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "aitdb/ingest/ingest.h"
#include "aitdb/schema/errors.h"
#include "aitdb/schema/store.h"
#include "cpu_profiling.h"
#include "op_io_csv.h"
#include "test_support.h"

namespace aitdb {
namespace {

using ingest::read_cpu_profiling_csv;
using ingest::read_cpu_profiling_txt;
using ingest::read_op_io_csv;
using test::scalar;
using test::TempDir;

const char* const kHeader =
    "CaseNum|CaseName|OpName|OpParam|InNum|InDType|InFormat|InShape|OutNum|OutDType|OutFormat|OutShape|"
    "DataGenType|DataGenRange|InTensorFile|OutTensorFile|TestType|TestLevel|FromModel|SocVersion|ExpectedError\n";

std::string shape_text(const std::vector<std::int64_t>& s) {
  return shape_to_json(s);
}

std::optional<std::filesystem::path> real_csv(const std::string& name) {
  const auto f = test::shared_fixtures();
  if (!f || !std::filesystem::exists(*f / "real" / name)) return std::nullopt;
  return *f / "real" / name;
}

ingest::OpIoCsv read_real(const std::filesystem::path& p) {
  return read_op_io_csv(test::read_file(p), p.string(), "operation");
}

// --- the genuine files ---

TEST(OpIoCsvReal, LinearPerfRows) {
  const auto p = real_csv("hicann+ascend-transformer-boost__LinearOperation_Perf_TestCase.csv");
  if (!p) GTEST_SKIP() << "shared fixtures absent";
  const auto csv = read_real(*p);
  ASSERT_TRUE(csv.errors.empty()) << csv.errors.front().reason;
  ASSERT_EQ(csv.rows.size(), 7U);
  const auto& r = csv.rows[0];
  EXPECT_EQ(r.line, 2);
  EXPECT_EQ(r.case_num, 1);
  EXPECT_EQ(r.op_name, "LinearOperation_2_0_0_0_1_0");
  EXPECT_EQ(r.op_type, "LinearOperation");
  EXPECT_EQ(r.id_path, "2_0_0_0_1_0");
  EXPECT_EQ(r.op_param, R"({"hasBias":false,"outDataType":-1,"transposeA":false,"transposeB":true})");
  ASSERT_EQ(r.tensors.size(), 3U);
  EXPECT_EQ(r.tensors[0].dtype, "float16");
  EXPECT_EQ(shape_text(r.tensors[0].shape), "[256,8192]");
  EXPECT_EQ(shape_text(r.tensors[1].shape), "[1280,8192]");
  EXPECT_EQ(r.tensors[2].io, "out");
  EXPECT_EQ(shape_text(r.tensors[2].shape), "[256,1280]");
  EXPECT_TRUE(r.tensors[2].file_path->ends_with("/1_LinearNoQuant/0_LinearOperation/after/outtensor0.bin"));
  EXPECT_EQ(r.test_type, "Performance");
  EXPECT_EQ(r.expected_error, "NO_ERROR");
  EXPECT_EQ(csv.rows[1].id_path, "2_2_0_1_0");
  EXPECT_EQ(shape_text(csv.rows[1].tensors[1].shape), "[7168,8192]");
}

TEST(OpIoCsvReal, SelfAttentionAndRmsNormRows) {
  const auto sa = real_csv("hicann+ascend-transformer-boost__SelfAttentionOperation_Perf_TestCase.csv");
  const auto rms = real_csv("hicann+ascend-transformer-boost__RmsNormOperation_Perf_TestCase.csv");
  if (!sa || !rms) GTEST_SKIP() << "shared fixtures absent";
  const auto a = read_real(*sa);
  ASSERT_EQ(a.rows.size(), 1U);
  EXPECT_EQ(a.rows[0].id_path, "2_0_3");
  EXPECT_EQ(a.rows[0].in_num, 5);
  EXPECT_EQ(a.rows[0].tensors[4].dtype, "int32");
  EXPECT_EQ(shape_text(a.rows[0].tensors[3].shape), "[128,128]");
  EXPECT_EQ(shape_text(a.rows[0].tensors[1].shape), "[256,1,128]");
  EXPECT_NE(a.rows[0].op_param.find("\"kvHeadNum\":1"), std::string::npos);
  const auto r = read_real(*rms);
  ASSERT_EQ(r.rows.size(), 2U);
  EXPECT_EQ(r.rows[1].id_path, "86_0_0_0_0");
  EXPECT_EQ(shape_text(r.rows[0].tensors[1].shape), "[8192]");
}

TEST(OpIoCsvReal, CuratedRopeHasReorderedPaddedColumns) {
  const auto p = real_csv("hicann+ascend-transformer-boost__RopeOperation_TestCase_DeepSeek.csv");
  if (!p) GTEST_SKIP() << "shared fixtures absent";
  const auto csv = read_real(*p);
  ASSERT_TRUE(csv.errors.empty());
  ASSERT_EQ(csv.rows.size(), 1U);
  const auto& r = csv.rows[0];
  EXPECT_EQ(r.op_name, "RopeOperation");
  EXPECT_EQ(r.op_type, "RopeOperation");
  EXPECT_FALSE(r.id_path);
  EXPECT_EQ(r.op_param, R"({"rotaryCoeff": 2})");
  ASSERT_EQ(r.tensors.size(), 7U);
  EXPECT_EQ(r.tensors[4].dtype, "uint32");
  EXPECT_EQ(shape_text(r.tensors[4].shape), "[1]");
  EXPECT_EQ(shape_text(r.tensors[6].shape), "[3072,64]");
  EXPECT_FALSE(r.tensors[0].file_path);
  EXPECT_EQ(r.test_type, "Function");  // last column in this copy
  EXPECT_EQ(r.soc_version, "Ascend910B");
  EXPECT_EQ(r.data_gen_range, "0,1;0,1;0,1;0,1;2,2");
}

TEST(OpIoCsvReal, CuratedActivationKeepsEveryCase) {
  const auto p = real_csv("hicann+ascend-transformer-boost__activation.csv");
  if (!p) GTEST_SKIP() << "shared fixtures absent";
  const auto csv = read_real(*p);
  ASSERT_TRUE(csv.errors.empty()) << csv.errors.front().line << ": " << csv.errors.front().reason;
  ASSERT_EQ(csv.rows.size(), 164U);
  const auto no_error = std::count_if(csv.rows.begin(), csv.rows.end(),
                                      [](const OpIoRecord& r) { return r.expected_error == "NO_ERROR"; });
  EXPECT_EQ(no_error, 118);
  // A case with no tensors at all: '0||||0|||'.
  const auto empty = std::find_if(csv.rows.begin(), csv.rows.end(), [](const OpIoRecord& r) { return r.in_num == 0; });
  ASSERT_NE(empty, csv.rows.end());
  EXPECT_TRUE(empty->tensors.empty());
  EXPECT_EQ(empty->op_param, R"({"activationType":4,"rsv":[1]})");
  EXPECT_EQ(csv.rows[1].line, 3);
  EXPECT_EQ(shape_text(csv.rows[1].tensors[0].shape), "[256,2,6848]");
}

// --- the reader on files written here ---

TEST(OpIoCsvReader, ReorderedPaddedColumnsZeroDShapesAndBlankLines) {
  const std::string text =
      "OpName | InNum|InDType|InFormat|InShape | OutNum|OutDType|OutFormat|OutShape|OpParam|ExpectedError|CaseNum\n"
      "\n"
      "  SliceOperation_1_2 | 3 | float16; int64 ;int64| nd;nd;nd | 2,3;;4 | 1 | float16 | nd |  | {\"offsets\":[0]} | "
      "NO_ERROR | 7\n"
      "   \n"
      "ElewiseOperation_1_3|0||||1|float|nd|5|{}|NO_ERROR|8\r\n";
  const auto csv = read_op_io_csv(text, "mem.csv", "operation");
  ASSERT_TRUE(csv.errors.empty()) << csv.errors.front().reason;
  ASSERT_EQ(csv.rows.size(), 2U);
  const auto& r = csv.rows[0];
  EXPECT_EQ(r.line, 3);
  EXPECT_EQ(r.case_num, 7);
  EXPECT_EQ(r.op_type, "SliceOperation");
  EXPECT_EQ(r.id_path, "1_2");
  ASSERT_EQ(r.tensors.size(), 4U);
  EXPECT_EQ(r.tensors[1].dtype, "int64");
  EXPECT_EQ(shape_text(r.tensors[0].shape), "[2,3]");
  EXPECT_EQ(shape_text(r.tensors[1].shape), "[]");  // 0-d
  EXPECT_EQ(shape_text(r.tensors[2].shape), "[4]");
  EXPECT_EQ(shape_text(r.tensors[3].shape), "[]");  // the only output is 0-d
  EXPECT_FALSE(r.test_type);                        // no such column
  EXPECT_EQ(csv.rows[1].line, 5);
  EXPECT_EQ(csv.rows[1].tensors.size(), 1U);
  EXPECT_EQ(shape_text(csv.rows[1].tensors[0].shape), "[5]");
}

TEST(OpIoCsvReader, BadRowIsOneErrorAndTheOthersStay) {
  const std::string text =
      std::string(kHeader) +
      "1|a1|AddOperation_0|{}|1|float|nd|2|1|float|nd|2|customize| |||||||NO_ERROR\n"
      "2|b2|AddOperation_1|{}|2|float;float;float|nd;nd|2;2|1|float|nd|2|customize| |||||||NO_ERROR\n"
      "3|c3|AddOperation_2|{}|1|float|nd|2|1|float|nd|2|customize| |||||||NO_ERROR\n";
  const auto csv = read_op_io_csv(text, "mem.csv", "operation");
  ASSERT_EQ(csv.rows.size(), 2U);
  EXPECT_EQ(csv.rows[1].op_name, "AddOperation_2");
  ASSERT_EQ(csv.errors.size(), 1U);
  EXPECT_EQ(csv.errors[0].line, 3);
  EXPECT_EQ(csv.errors[0].reason, "InDType lists 3 entries for 2 tensors");
}

TEST(OpIoCsvReader, HostileRowsAreRefusedOneByOne) {
  const std::string huge(2'000'000, ';');
  const std::string text = std::string(kHeader) +
                           "1|x|A_0|{}|99999999999999|float|nd|2|1|float|nd|2|||||||||\n"  // huge count
                           "2|x|A_1|{}|-1|float|nd|2|1|float|nd|2|||||||||\n"              // negative count
                           "3|x|A_2|{}|1|" +
                           huge +
                           "|nd|2|1|float|nd|2|||||||||\n"                           // very long list
                           "4|x|A_3|{}|1|float|nd|2,x|1|float|nd|2|||||||||\n"       // bad dim
                           "5|x|A_4|{not json|1|float|nd|2|1|float|nd|2|||||||||\n"  // op param
                           "6|x|A_5|{}|1|float|nd|2|1\n"                             // truncated row
                           "7|x|A_6|{}|1|float|nd|99999999999999999999|1|float|nd|2|||||||||\n"
                           "8|x|A_7|{}|1|float|nd|2|1|float|nd|2|||||||||\n";
  const auto csv = read_op_io_csv(text, "mem.csv", "operation");
  ASSERT_EQ(csv.rows.size(), 1U);
  EXPECT_EQ(csv.rows[0].op_name, "A_7");
  ASSERT_EQ(csv.errors.size(), 7U);
  EXPECT_EQ(csv.errors[0].reason, "InDType lists 1 entries for 99999999999999 tensors");
  EXPECT_EQ(csv.errors[1].reason, "InNum '-1' is not a count");
  EXPECT_EQ(csv.errors[2].line, 4);
  EXPECT_EQ(csv.errors[3].reason, "InShape entry 0 '2,x' is not a list of dimensions");
  EXPECT_EQ(csv.errors[4].reason, "OpParam is not JSON");
  EXPECT_EQ(csv.errors[5].reason, "9 cells, the header has 21");
  EXPECT_EQ(csv.errors[6].line, 8);
  // Kernel rows carry free text, not JSON.
  const auto k = read_op_io_csv(std::string(kHeader) + "1|x|MatMulKernel|transA: 0, transB: 1|0||||0||||||||||||\n",
                                "mem.csv", "kernel");
  ASSERT_EQ(k.rows.size(), 1U);
  EXPECT_EQ(k.rows[0].op_param, "transA: 0, transB: 1");
  EXPECT_FALSE(k.rows[0].id_path);
}

TEST(OpIoCsvReader, GarbageAndBrokenHeadersAreFileErrors) {
  EXPECT_THROW(read_op_io_csv("", "mem.csv", "operation"), FormatError);
  EXPECT_THROW(read_op_io_csv("CaseNum|OpName|InNum\n1|A_0|0\n", "mem.csv", "operation"), FormatError);
  EXPECT_THROW(read_op_io_csv(std::string(kHeader).replace(0, 7, "OpName|"), "mem.csv", "operation"), FormatError);
  std::mt19937 rng(5);
  std::string garbage(100'000, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  EXPECT_THROW(read_op_io_csv(garbage, "mem.csv", "operation"), FormatError);
  // Garbage after a good header: every line is a bad row or skipped, nothing escapes.
  const auto csv = read_op_io_csv(std::string(kHeader) + garbage, "mem.csv", "operation");
  EXPECT_TRUE(csv.rows.empty());
  EXPECT_FALSE(csv.errors.empty());
  // The in-memory entry point refuses what exceeds the size limit.
  ingest::ReadLimits small;
  small.max_file_size = 100;
  const auto bytes = test::bytes_of(std::string(kHeader));
  EXPECT_THROW(ingest::read_op_io_csv(bytes, "mem.csv", "operation", small), FormatError);
}

TEST(CpuProfilingReader, RawLinesSetupAndExecute) {
  const std::string text =
      "[LinearOperation_2_0_1]:totalTime:120, runnerCreateTime:3, runnerSetupTime:41, setupCacheHitCount:0\n"
      "\n"
      "[LinearOperation_2_0_1]:totalTime:900, kernelExecuteTime:750, launchTime:20\n"
      "LinearOperation_2_0_1:totalTime:1\n"
      "[Bad Name]:totalTime:1\n"
      "[RmsNormOperation_2_0_0]:totalTime:x\n";
  const auto p = read_cpu_profiling_txt(text);
  ASSERT_EQ(p.records.size(), 7U);
  EXPECT_EQ(p.records[0].op_name, "LinearOperation_2_0_1");
  EXPECT_EQ(p.records[0].id_path, "2_0_1");
  EXPECT_EQ(p.records[2].key, "runnerSetupTime");
  EXPECT_EQ(p.records[2].value, 41);
  EXPECT_EQ(p.records[2].phase, "setup");
  EXPECT_EQ(p.records[4].line, 3);
  EXPECT_EQ(p.records[4].phase, "execute");
  EXPECT_EQ(p.records[5].key, "kernelExecuteTime");
  EXPECT_EQ(p.records[5].value, 750);
  ASSERT_EQ(p.errors.size(), 3U);
  EXPECT_EQ(p.errors[0].line, 4);
  EXPECT_EQ(p.errors[0].reason, "does not start with [opName]");
  EXPECT_EQ(p.errors[1].reason, "op name 'Bad Name' is not [A-Za-z0-9_]+");
  EXPECT_EQ(p.errors[2].reason, "'totalTime:x' is not key:value");
}

TEST(CpuProfilingReader, MsitCsvOneRowPerOp) {
  const std::string text =
      "opname,execute_kernelExecuteTime,execute_totalTime,setup_runnerSetupTime,setup_totalTime\n"
      "LinearOperation_2_0_1,750,900,41,120\n"
      "RmsNormOperation_2_0_0,,,12.0,30\n"
      "\"Quoted_1\",1,2\n"
      "SplitOperation_2_0_2,a,1,1,1\n";
  const auto p = read_cpu_profiling_csv(text, "stat.csv");
  ASSERT_EQ(p.records.size(), 6U);
  EXPECT_EQ(p.records[0].phase, "execute");
  EXPECT_EQ(p.records[0].key, "kernelExecuteTime");
  EXPECT_EQ(p.records[0].value, 750);
  EXPECT_EQ(p.records[3].key, "totalTime");
  EXPECT_EQ(p.records[3].phase, "setup");
  EXPECT_EQ(p.records[4].op_name, "RmsNormOperation_2_0_0");
  EXPECT_EQ(p.records[4].value, 12);
  EXPECT_EQ(p.records[4].line, 3);
  ASSERT_EQ(p.errors.size(), 2U);
  EXPECT_EQ(p.errors[0].reason, "3 cells, the header has 5");
  EXPECT_EQ(p.errors[1].reason, "column execute_kernelExecuteTime: 'a' is not a number");
  EXPECT_THROW(read_cpu_profiling_csv("name,setup_x\n", "stat.csv"), FormatError);
}

// --- ingest: an ATB tree with the side files ---

constexpr const char* kAbs = "/data/modeltest/opresult/m/msit_dump_20250412_070328/tensors/0_35570/0/";

void write_tree(const std::filesystem::path& root) {
  const auto t = root / "tensors/0_35570/0/2_Prefill_layer";
  // RmsNorm saved after/ only; Linear saved before/ inputs too (before-saving on).
  test::write_file(t / "0_RmsNormOperation/after/intensor0.bin", test::atb_f32({1, 2}));
  test::write_file(t / "0_RmsNormOperation/after/intensor1.bin", test::atb_f32({3, 4}));
  test::write_file(t / "0_RmsNormOperation/after/outtensor0.bin", test::atb_f32({5, 6}));
  test::write_file(t / "1_LinearOperation/before/intensor0.bin", test::atb_f32({7, 8}));
  test::write_file(t / "1_LinearOperation/after/intensor0.bin", test::atb_f32({9, 10}));
  test::write_file(t / "1_LinearOperation/after/outtensor0.bin", test::atb_f32({11, 12}));
  const std::string rms = std::string(kAbs) + "2_Prefill_layer/0_RmsNormOperation/before/";
  const std::string lin = std::string(kAbs) + "2_Prefill_layer/1_LinearOperation/before/";
  // Curated-style header: trailing columns reordered, cells padded.
  test::write_file(
      root / "operation_io_tensors/35570/operation_tensors_0.csv",
      "CaseNum |CaseName|OpName|OpParam|InNum|InDType|InFormat|InShape|OutNum|OutDType|OutFormat|"
      "OutShape|DataGenType|DataGenRange|InTensorFile|OutTensorFile|ExpectedError|TestLevel|FromModel|"
      "SocVersion|TestType\n"
      "1 | RmsNormOperation_2_01 | RmsNormOperation_2_0 | {\"layerType\":1} | 2 | float;float | nd;nd | "
      "2;2 | 1 | float | nd | 2 | customize;customize | | " +
          rms + "intensor0.bin;" + rms + "intensor1.bin | " + rms +
          "outtensor0.bin | NO_ERROR | | | |\n"
          "\n"
          "2|LinearOperation_2_12|LinearOperation_2_1|{\"transposeB\":true}|1|float|nd|2|1|float|nd|2|"
          "customize| |" +
          lin + "intensor0.bin|" + lin +
          "outtensor0.bin|NO_ERROR| | | | \n"
          "3|LinearOperation_2_13|LinearOperation_2_1|{}|2|float|nd|2|1|float|nd|2|customize| |||NO_ERROR| | | | \n"
          "4|SliceOperation_2_34|SliceOperation_2_3|{}|1|int64|nd||1|int64|nd||customize| |||NO_ERROR| | | | \n");
  test::write_file(root / "kernel_io_tensors/35570/kernel_tensors_0.csv",
                   std::string(kHeader) +
                       "1|MatMulKernel1|MatMulKernel|transA: 0, transB: 1|1|float|nd|2|1|float|nd|2|"
                       "customize| |" +
                       lin + "intensor0.bin|" + lin + "outtensor0.bin| | | | |NO_ERROR\n");
  test::write_file(root / "cpu_profiling/35570/operation_statistic_0.txt",
                   "[LinearOperation_2_1]:totalTime:120, runnerSetupTime:41\n"
                   "[LinearOperation_2_1]:totalTime:900, kernelExecuteTime:750\n"
                   "garbage\n");
  test::write_file(root / "cpu_profiling/35570/operation_statistic_0.csv",
                   "opname,execute_kernelExecuteTime,setup_runnerSetupTime\nRmsNormOperation_2_0,30,4\n");
}

TEST(OpIoIngest, RowsLinkToOpNodesAndTensors) {
  TempDir d;
  const auto root = d / "msit_dump_20250412_070328";
  write_tree(root);
  Store s((d / "w.db").string());
  ingest::IngestOptions o;
  o.run_name = "r";
  std::vector<std::string> reported;
  o.on_error = [&](const std::string& path, const std::string& reason) { reported.push_back(path + ": " + reason); };
  const auto rep = ingest::ingest_path(s, root, o);
  // One bad CSV row (InNum 2, one dtype) and one bad cpu_profiling line, each one error.
  EXPECT_EQ(rep.errors, 2U);
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(rel_path || ': ' || reason, ' | ') FROM "
                   "(SELECT * FROM ingest_errors ORDER BY rel_path)"),
            "cpu_profiling/35570/operation_statistic_0.txt:3: does not start with [opName] | "
            "operation_io_tensors/35570/operation_tensors_0.csv:5: InDType lists 1 entries for 2 tensors");
  ASSERT_EQ(reported.size(), 2U);
  std::sort(reported.begin(), reported.end());
  EXPECT_EQ(reported[1],
            (std::filesystem::canonical(root) / "operation_io_tensors/35570/operation_tensors_0.csv").string() +
                ":5: InDType lists 1 entries for 2 tensors");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM op_io_rows"), "4");
  // Operation rows: their node by OpName's id path.
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(r.line || '=' || coalesce(n.id_path, '-') || ':' || r.op_type, ' ') FROM "
                   "(SELECT * FROM op_io_rows WHERE kind = 'operation' ORDER BY line) r "
                   "LEFT JOIN op_nodes n ON n.id = r.op_node_id"),
            "2=2_0:RmsNormOperation 4=2_1:LinearOperation 6=-:SliceOperation");
  EXPECT_EQ(scalar(s, "SELECT op_param || pid || execute_count FROM op_io_rows WHERE line = 2 AND kind = 'operation'"),
            "{\"layerType\":1}355700");
  // RmsNorm's paths say before/, only after/ was dumped: the other phase stands in.
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(ot.io || ot.io_index || '->' || t.phase || '/' || t.io || t.io_index, ' ') "
                   "FROM op_io_tensors ot JOIN op_io_rows r ON r.id = ot.row_id JOIN tensors t ON t.id = ot.tensor_id "
                   "WHERE r.op_name = 'RmsNormOperation_2_0'"),
            "in0->after/in0 in1->after/in1 out0->after/out0");
  // Linear saved before/ inputs: the input path finds before/, the before/outtensor path after/.
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(ot.io || ot.io_index || '->' || f.rel_path, ' ') FROM op_io_tensors ot "
                   "JOIN op_io_rows r ON r.id = ot.row_id JOIN tensors t ON t.id = ot.tensor_id "
                   "JOIN files f ON f.id = t.file_id WHERE r.op_name = 'LinearOperation_2_1' AND r.kind = 'operation'"),
            "in0->tensors/0_35570/0/2_Prefill_layer/1_LinearOperation/before/intensor0.bin "
            "out0->tensors/0_35570/0/2_Prefill_layer/1_LinearOperation/after/outtensor0.bin");
  // The 0-d shapes, and a row without a node in the tree keeps its tensors unlinked.
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(ot.shape || coalesce(ot.tensor_id, '-'), ' ') FROM op_io_tensors ot "
                   "JOIN op_io_rows r ON r.id = ot.row_id WHERE r.op_name = 'SliceOperation_2_3'"),
            "[]- []-");
  // The kernel row belongs to the op whose directory its paths name.
  EXPECT_EQ(scalar(s,
                   "SELECT n.id_path || ' ' || r.op_param FROM op_io_rows r JOIN op_nodes n ON n.id = r.op_node_id "
                   "WHERE r.kind = 'kernel'"),
            "2_1 transA: 0, transB: 1");
  EXPECT_EQ(scalar(s,
                   "SELECT count(*) FROM op_io_tensors ot JOIN op_io_rows r ON r.id = ot.row_id "
                   "WHERE r.kind = 'kernel' AND ot.tensor_id IS NOT NULL"),
            "2");
  // cpu_profiling: raw lines and the converted CSV, each linked by op name.
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(c.phase || ':' || c.key || '=' || c.value || '@' || n.id_path, ' ') FROM "
                   "(SELECT * FROM cpu_profiling ORDER BY id) c JOIN op_nodes n ON n.id = c.op_node_id"),
            "execute:kernelExecuteTime=30.0@2_0 setup:runnerSetupTime=4.0@2_0 setup:totalTime=120.0@2_1 "
            "setup:runnerSetupTime=41.0@2_1 execute:totalTime=900.0@2_1 execute:kernelExecuteTime=750.0@2_1");
}

TEST(OpIoIngest, OpNameIdPathDifferentFromItsDirectoryIsReported) {
  TempDir d;
  const auto root = d / "msit_dump_20250412_070328";
  test::write_file(root / "tensors/0_35570/0/3_AddOperation/after/outtensor0.bin", test::atb_f32({1}));
  test::write_file(root / "operation_io_tensors/35570/operation_tensors_0.csv",
                   std::string(kHeader) + "1|x|AddOperation_4|{}|0||||1|float|nd|1|customize| ||" + kAbs +
                       "3_AddOperation/after/outtensor0.bin| | | | |NO_ERROR\n"
                       "2|x|AddOperation_3|{}|0||||1|float|nd|1|customize| |||||||NO_ERROR\n");
  Store s((d / "w.db").string());
  ingest::IngestOptions o;
  o.run_name = "r";
  const auto rep = ingest::ingest_path(s, root, o);
  EXPECT_EQ(rep.errors, 1U);
  EXPECT_EQ(scalar(s, "SELECT rel_path || ': ' || reason FROM ingest_errors"),
            "operation_io_tensors/35570/operation_tensors_0.csv:2: OpName AddOperation_4 names id path 4, its tensor "
            "paths the op directory 3");
  // The row is kept; it stays with the op its OpName names (none here), its tensor with its file.
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(coalesce(n.id_path, '-'), ' ') FROM (SELECT * FROM op_io_rows ORDER BY line) r "
                   "LEFT JOIN op_nodes n ON n.id = r.op_node_id"),
            "- 3");  // a row without paths finds its op by the file's pid and execute count
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM op_io_tensors WHERE tensor_id IS NOT NULL"), "1");
}

}  // namespace
}  // namespace aitdb
