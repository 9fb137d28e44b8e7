// torchair graph-mode matchers (docs/compare.md, "ge_fx" and "ge_ge"): GE dumps built with the
// project's own ge_dump.proto and FX trees of .npy files, ingested and compared end to end, and a
// GE-vs-GE pairing at 100k tensors per side written straight through the store.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <tuple>

#include "aitdb/compare/compare_runs.h"
#include "aitdb/ingest/ingest.h"
#include "aitdb/query/report_export.h"
#include "format_writers.h"
#include "ge_dump.pb.h"
#include "op_graph/op_graph_builder.h"
#include "test_support.h"

namespace aitdb {
namespace {

namespace pb = toolkit::dumpdata;
using test::scalar;
using test::TempDir;
using Values = std::vector<float>;

// A GE dump file: u64 LE header length, the DumpData header, inputs then outputs (float32, ND).
std::vector<std::byte> ge_f32_file(const std::string& op_name, const std::vector<Values>& inputs,
                                   const std::vector<Values>& outputs) {
  pb::DumpData d;
  d.set_version("2.0");
  d.set_op_name(op_name);
  std::vector<std::byte> data;
  auto describe = [](auto* t, const Values& v) {
    t->set_data_type(pb::DT_FLOAT);
    t->set_format(pb::FORMAT_ND);
    t->mutable_shape()->add_dim(v.size());
    t->mutable_original_shape()->add_dim(v.size());
    t->set_size(v.size() * sizeof(float));
  };
  for (const auto& v : inputs) {
    describe(d.add_input(), v);
    const auto b = test::bytes_of(v);
    data.insert(data.end(), b.begin(), b.end());
  }
  for (const auto& v : outputs) {
    describe(d.add_output(), v);
    const auto b = test::bytes_of(v);
    data.insert(data.end(), b.begin(), b.end());
  }
  const std::string h = d.SerializeAsString();
  std::vector<std::byte> out(8);
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((h.size() >> (8U * i)) & 0xFFU);
  const auto hb = test::bytes_of(h);
  out.insert(out.end(), hb.begin(), hb.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string npy_f32(const Values& v) {
  return test::npy("<f4", {static_cast<std::int64_t>(v.size())}, test::bytes_of(v));
}

// One graph-text op: inputs "producer:index", and per output the FX tensor it came from ("" none).
std::string graph_op(const std::string& name, const std::string& type, const std::vector<std::string>& inputs,
                     const std::vector<std::string>& fx_outputs) {
  std::string s = "op {\n  name: \"" + name + "\"\n  type: \"" + type + "\"\n";
  for (const auto& in : inputs) s += "  input: \"" + in + "\"\n";
  for (const auto& fx : fx_outputs) {
    s += "  output_desc {\n    name: \"y\"\n    dtype: DT_FLOAT\n";
    if (!fx.empty())
      s += "    attr {\n      key: \"_fx_tensor_name\"\n      value {\n        s: \"" + fx + "\"\n      }\n    }\n";
    s += "  }\n";
  }
  return s + "}\n";
}

Values add(const Values& a, const Values& b) {
  Values r(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] + b[i];
  return r;
}
Values mul(const Values& a, const Values& b) {
  Values r(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) r[i] = a[i] * b[i];
  return r;
}
Values relu(Values a) {
  for (auto& v : a) v = std::max(v, 0.0F);
  return a;
}
Values neg(Values a) {
  for (auto& v : a) v = -v;
  return a;
}
// Breaks the direction of a tensor: cosine with the original far below 0.99.
Values perturbed(Values a) {
  for (std::size_t i = 0; i < a.size(); i += 2) a[i] = -a[i];
  return a;
}

// Compares with inputs on one thread (the default matcher for the flavours) and returns the summary.
compare::CompareSummary compare_with_inputs(Store& s, const std::string& golden, const std::string& my) {
  compare::CompareOptions o;
  o.include_inputs = true;
  o.jobs = 1;
  return compare::compare_runs(s, golden, my, o);
}

// "rule:count ..." of every pair stored.
std::string rule_counts(Store& s) {
  return scalar(s,
                "SELECT group_concat(rule || ':' || n, ' ') FROM (SELECT rule, count(*) AS n FROM pairs GROUP BY "
                "rule ORDER BY rule)");
}

// "rule op_path io index" of the first divergence's my tensor.
std::string first_divergence_at(Store& s) {
  return scalar(s,
                "SELECT f.rule || ' ' || t.op_path || ' ' || t.io || t.io_index FROM first_divergence f JOIN "
                "tensors t ON t.id = f.my_tensor_id");
}

const Values kX{1, 2, 3, 4, 5, 6, 7, 8};

// Graph: x -> Add_1(x, x) -> Mul_2(a, x) -> Cast_3 -> Relu_4 -> Neg_5 -> Split_6 (two outputs).
std::string ge_fx_graph_text() {
  return "name: \"graph_1\"\n" + graph_op("arg0_1", "Data", {}, {""}) +
         graph_op("Add_1", "Add", {"arg0_1:0", "arg0_1:0"}, {"add-aten.add.Tensor.OUTPUT.0"}) +
         graph_op("Mul_2", "Mul", {"Add_1:0", "arg0_1:0", "Const_9:-1"}, {"mul-aten.mul.Tensor.OUTPUT.0"}) +
         graph_op("Cast_3", "Cast", {"Mul_2:0"}, {"to-aten._to_copy.default.OUTPUT.0"}) +
         graph_op("Relu_4", "Relu", {"Cast_3:0"}, {"relu-aten.relu.default.OUTPUT.0"}) +
         graph_op("Neg_5", "Neg", {"Relu_4:0"}, {"neg-aten.neg.default.OUTPUT.0"}) +
         graph_op("Split_6", "SplitV", {"Neg_5:0"},
                  {"split-aten.split.Tensor.OUTPUT.0", "split-aten.split.Tensor.OUTPUT.1"});
}

TEST(GeFxMatcher, FusedOpIsTheFirstDivergenceAndEveryOutputDescPairs) {
  TempDir d;
  const auto ge = d / "msit_ge_dump";
  test::write_file(ge / "dynamo_original_graph_1_rank_0_pid_7_ts_1.txt", ge_fx_graph_text());
  const auto step = ge / "worldsize1_global_rank0/20240130123456/0/graph_1/1/0";
  const Values a = add(kX, kX);
  const Values m = mul(a, kX);
  const Values bad = perturbed(m);
  const Values r = relu(m);
  const Values r_bad = relu(bad);
  const Values n = neg(r_bad);
  const Values s0(n.begin(), n.begin() + 4);
  const Values s1(n.begin() + 4, n.end());
  test::write_file(step / "Add.Add_1.1.6.1706596912161941", ge_f32_file("Add_1", {kX, kX}, {a}));
  // Mul_2 and Cast_3 fused by GE; its output is wrong.
  test::write_file(step / "AutomaticBufferFusionOp.Mul_2Cast_3.2.6.1706596912161942",
                   ge_f32_file("Mul_2Cast_3", {a, kX}, {bad}));
  test::write_file(step / "Relu.Relu_4.3.6.1706596912161943", ge_f32_file("Relu_4", {bad}, {r_bad}));
  // Inserted by GE, unknown to the graph: compares its own input with its output.
  test::write_file(step / "TransData.TransData_9.4.6.1706596912161944", ge_f32_file("TransData_9", {r_bad}, {r_bad}));
  test::write_file(step / "Neg.Neg_5.5.6.1706596912161945", ge_f32_file("Neg_5", {r_bad}, {n}));
  test::write_file(step / "SplitV.Split_6.6.6.1706596912161946", ge_f32_file("Split_6", {n}, {s0, s1}));

  const auto fx = d / "msit_fx_dump/worldsize1_global_rank0/graph_1/0";
  const std::string ts = ".20240125031118787351.npy";
  const Values n_gold = neg(r);
  // Per FX node: its inputs and outputs, as the eager run computed them.
  const std::vector<std::tuple<std::string, std::vector<Values>, std::vector<Values>>> fx_nodes{
      {"add-aten.add.Tensor", {kX, kX}, {a}},
      {"mul-aten.mul.Tensor", {a, kX}, {m}},
      {"to-aten._to_copy.default", {m}, {m}},
      {"relu-aten.relu.default", {m}, {r}},
      {"neg-aten.neg.default", {r}, {n_gold}},
      {"split-aten.split.Tensor",
       {n_gold},
       {Values(n_gold.begin(), n_gold.begin() + 4), Values(n_gold.begin() + 4, n_gold.end())}}};
  for (const auto& [key, inputs, outputs] : fx_nodes) {
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      test::write_file(fx / (key + ".INPUT." + std::to_string(i) + ts), npy_f32(inputs[i]));
    }
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      test::write_file(fx / (key + ".OUTPUT." + std::to_string(i) + ts), npy_f32(outputs[i]));
    }
  }

  Store s((d / "w.db").string());
  test::ingest_as(s, d / "msit_fx_dump", "fx");
  test::ingest_as(s, ge, "ge");
  // Ingest decomposed the fused op and ordered GE ops by graph position (unknown ops first).
  EXPECT_EQ(scalar(s, "SELECT names FROM op_nodes WHERE id_path = 'Mul_2Cast_3'"), R"(["Mul_2","Cast_3"])");
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(id_path, ' ') FROM (SELECT id_path FROM op_nodes n JOIN runs r ON "
                   "r.id = n.run_id WHERE r.name = 'ge' ORDER BY exec_order)"),
            "TransData_9 Add_1 Mul_2Cast_3 Relu_4 Neg_5 Split_6");
  // Control edges are no data inputs.
  EXPECT_EQ(scalar(s, "SELECT in_tensors FROM graph_ops WHERE op_name = 'Mul_2'"), R"(["Add_1","arg0_1"])");

  const auto sum = compare_with_inputs(s, "fx", "ge");
  ASSERT_EQ(sum.matchers, std::vector<std::string>{"ge_fx"});
  // Add 3, fused 3 (Mul_2's FX inputs, Cast_3's FX output), Relu 2, TransData 1, Neg 2, Split 3.
  EXPECT_EQ(sum.pairs, 14U);
  EXPECT_EQ(sum.failed, 0U);
  EXPECT_EQ(rule_counts(s), "ge_fx:10 ge_fx_fused:3 ge_self:1");
  ASSERT_TRUE(sum.first_divergence);
  EXPECT_EQ(first_divergence_at(s), "ge_fx_fused Mul_2Cast_3 out0");
  EXPECT_NE(scalar(s, "SELECT golden_data_path FROM first_divergence").find("to-aten._to_copy.default.OUTPUT.0."),
            std::string::npos);
  EXPECT_EQ(scalar(s,
                   "SELECT min(cosine_similarity) > 0.999999 FROM report WHERE seq < (SELECT seq FROM "
                   "first_divergence)"),
            "1");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM report WHERE seq < (SELECT seq FROM first_divergence)"), "6");
  // Both outputs of the two-output op keep their FX partner (msit kept only the last output_desc).
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(g.io_index, ',') FROM pairs p JOIN tensors m ON m.id = p.my_tensor_id "
                   "JOIN tensors g ON g.id = p.golden_tensor_id WHERE m.op_path = 'Split_6' AND m.io = 'out' "
                   "AND g.op_path = 'split-aten.split.Tensor' AND g.io_index = m.io_index"),
            "0,1");
  // TransData_9's input is the golden side of its own pair, never a my-side partner.
  EXPECT_EQ(sum.unpaired_my, 1U);
  // FX tensors no GE op points at: the inner ops of the fusion (Mul_2's output, Cast_3's input).
  EXPECT_EQ(sum.unpaired_golden, 2U);

  // One report per rank, named as msit names it.
  const auto reports = query::export_reports(s, sum.comparison_id, d / "out", false);
  ASSERT_EQ(reports.size(), 1U);
  EXPECT_TRUE(reports[0].file.filename().string().starts_with("msit_cmp_report_rank0_")) << reports[0].file;
  EXPECT_EQ(reports[0].rows, 14U);

  // --rank picks one rank; a rank neither run has pairs nothing.
  compare::CompareOptions o;
  o.include_inputs = true;
  o.rank = 1;
  o.match_only = true;
  EXPECT_EQ(compare::compare_runs(s, "fx", "ge", o).pairs, 0U);
  o.rank = 0;
  EXPECT_EQ(compare::compare_runs(s, "fx", "ge", o).pairs, 14U);

  // The same through the CLI: -gp/-mp ingest both, auto picks ge_fx, -r keeps rank 0, one report per rank.
  const auto cli = test::run_aitdb({"compare", "--db", (d / "cli.db").string(), "-gp", (d / "msit_fx_dump").string(),
                                    "-mp", ge.string(), "--inputs", "-r", "0", "-o", (d / "cli_out").string()});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_NE(cli.out.find("matcher ge_fx: 14 pairs"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("msit_cmp_report_rank0_"), std::string::npos) << cli.out;
}

TEST(GeGeMatcher, FusionOnVersusOffUsesExternalInputsAndTheLastPartsOutput) {
  TempDir d;
  // x -> Add_1(x, x) -> Mul_2(a, x) -> Add_7(m, x) -> Relu_4; GE fuses Mul_2 and Add_7.
  const std::string graph = "name: \"graph_1\"\n" + graph_op("arg0_1", "Data", {}, {""}) +
                            graph_op("Add_1", "Add", {"arg0_1:0", "arg0_1:0"}, {""}) +
                            graph_op("Mul_2", "Mul", {"Add_1:0", "arg0_1:0"}, {""}) +
                            graph_op("Add_7", "Add", {"Mul_2:0", "arg0_1:0"}, {""}) +
                            graph_op("Relu_4", "Relu", {"Add_7:0"}, {""});
  const Values a = add(kX, kX);
  const Values m = mul(a, kX);
  const Values p = add(m, kX);
  const Values bad = perturbed(p);
  for (const char* side : {"off", "on"}) {
    const auto root = d / side / "msit_ge_dump";
    test::write_file(root / "dynamo_original_graph_1_rank_0_pid_7_ts_1.txt", graph);
    const auto step = root / "20240130123456/0/graph_1/1/0";
    test::write_file(step / "Add.Add_1.1.6.1706596912161941", ge_f32_file("Add_1", {kX, kX}, {a}));
    if (std::string(side) == "off") {
      test::write_file(step / "Mul.Mul_2.2.6.1706596912161942", ge_f32_file("Mul_2", {a, kX}, {m}));
      test::write_file(step / "Add.Add_7.3.6.1706596912161943", ge_f32_file("Add_7", {m, kX}, {p}));
      test::write_file(step / "Relu.Relu_4.4.6.1706596912161944", ge_f32_file("Relu_4", {p}, {relu(p)}));
    } else {
      test::write_file(step / "AutomaticBufferFusionOp.Mul_2Add_7.2.6.1706596912161942",
                       ge_f32_file("Mul_2Add_7", {a, kX, kX}, {bad}));
      test::write_file(step / "Relu.Relu_4.4.6.1706596912161944", ge_f32_file("Relu_4", {bad}, {relu(bad)}));
    }
  }
  Store s((d / "w.db").string());
  test::ingest_as(s, d / "off/msit_ge_dump", "off");
  test::ingest_as(s, d / "on/msit_ge_dump", "on");
  const auto sum = compare_with_inputs(s, "off", "on");
  ASSERT_EQ(sum.matchers, std::vector<std::string>{"ge_ge"});
  // Add_1 3, fused 3 external inputs + 1 output, Relu_4 2.
  EXPECT_EQ(sum.pairs, 9U);
  EXPECT_EQ(rule_counts(s), "ge_fused:4 ge_name:5");
  // External inputs: Mul_2's two, then Add_7's second (its first comes from Mul_2, inside the fusion).
  EXPECT_EQ(scalar(s,
                   "SELECT group_concat(x, ' ') FROM (SELECT m.io_index || '<-' || g.op_path || '.' || g.io_index "
                   "AS x FROM pairs p JOIN tensors m ON m.id = p.my_tensor_id JOIN tensors g ON g.id = "
                   "p.golden_tensor_id WHERE p.rule = 'ge_fused' AND m.io = 'in' ORDER BY m.io_index)"),
            "0<-Mul_2.0 1<-Mul_2.1 2<-Add_7.1");
  EXPECT_EQ(scalar(s,
                   "SELECT g.op_path FROM pairs p JOIN tensors m ON m.id = p.my_tensor_id JOIN tensors g ON "
                   "g.id = p.golden_tensor_id WHERE p.rule = 'ge_fused' AND m.io = 'out'"),
            "Add_7");
  ASSERT_TRUE(sum.first_divergence);
  EXPECT_EQ(first_divergence_at(s), "ge_fused Mul_2Add_7 out0");
  EXPECT_EQ(scalar(s,
                   "SELECT min(cosine_similarity) > 0.999999 FROM report WHERE seq < (SELECT seq FROM "
                   "first_divergence)"),
            "1");
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM report WHERE seq < (SELECT seq FROM first_divergence)"), "6");
}

// 100k GE tensors per side written through the store: 2 ranks x 20 tokens of a 2500-op chain.
// Golden runs every op; my run fuses them in pairs (Op_00000Op_00001, ...), so each fused op
// pairs its external input with the first part's input and its output with the second part's.
TEST(GeGeMatcherScale, HundredThousandFusedTensorsPerSide) {
  constexpr int kOps = 2500;
  const int kTokens = std::getenv("GE_SCALE_TOKENS") ? std::atoi(std::getenv("GE_SCALE_TOKENS")) : 20;
  TempDir d;
  Store s((d / "w.db").string());
  const auto blob = encode_blob(test::bytes_of(std::vector<float>{1, 2, 3, 4}), 4, 1);
  auto op_name = [](int i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "Op_%05d", i);
    return std::string(buf);
  };
  std::string graph = "name: \"graph_1\"\n" + graph_op("arg0_1", "Data", {}, {""});
  for (int i = 0; i < kOps; ++i)
    graph += graph_op(op_name(i), "Relu", {(i == 0 ? "arg0_1" : op_name(i - 1)) + ":0"}, {""});
  for (const char* run : {"g", "m"}) {
    IngestTransaction tx(s, RunSpec{run, "ge_tree", std::string("/x/") + run, "{}"}, false);
    tx.put_blob(blob);
    for (const char* file :
         {"dynamo_original_graph_1_rank_0_pid_7_ts_1.txt", "dynamo_original_graph_1_rank_1_pid_8_ts_1.txt"}) {
      tx.add_file(FileRow{file, static_cast<std::int64_t>(graph.size()), std::nullopt, "aux", "ok", graph});
    }
    const bool fused = std::string(run) == "m";
    for (int rank = 0; rank < 2; ++rank) {
      const std::string rank_key = "worldsize2_global_rank" + std::to_string(rank);
      for (int token = 0; token < kTokens; ++token) {
        for (int op = 0; op < kOps; op += fused ? 2 : 1) {
          const std::string name = fused ? op_name(op) + op_name(op + 1) : op_name(op);
          OpNodeRow n = OpNodeRow::of("op", rank_key, std::to_string(token), name);
          n.type = fused ? "AutomaticBufferFusionOp" : "Relu";
          const auto node = tx.add_op_node(n);
          for (const char* io : {"in", "out"}) {
            TensorRow t;
            t.source_kind = "ge_dump";
            t.rank_key = rank_key;
            t.token = token;
            t.op_path = name;
            t.io = io;
            t.io_index = 0;
            t.dtype = DType::Float32;
            t.shape = std::vector<std::int64_t>{4};
            t.numel = 4;
            t.nbytes = 16;
            t.blob_key = blob.key;
            t.op_node_id = node;
            tx.add_tensor(t);
          }
        }
      }
    }
    ingest::build_op_graph(tx);  // decomposes the fused names against the rank's graph text
    tx.commit();
  }
  EXPECT_EQ(scalar(s, "SELECT count(*) FROM tensors t JOIN runs r ON r.id = t.run_id WHERE r.name = 'm'"), "100000");
  compare::CompareOptions o;
  o.include_inputs = true;
  o.match_only = true;  // pairing is what is tested
  const auto sum = compare::compare_runs(s, "g", "m", o);
  EXPECT_EQ(sum.matchers, std::vector<std::string>{"ge_ge"});
  EXPECT_EQ(sum.pairs, 100000U);
  EXPECT_EQ(sum.unpaired_my, 0U);
  EXPECT_EQ(sum.unpaired_golden, 100000U);  // the first part's output and the second part's input
  EXPECT_EQ(scalar(s,
                   "SELECT count(*) FROM pairs p JOIN tensors m ON m.id = p.my_tensor_id JOIN tensors g ON g.id = "
                   "p.golden_tensor_id WHERE p.rule = 'ge_fused' AND g.token = m.token AND g.rank_key = m.rank_key "
                   "AND ((m.io = 'in' AND g.io = 'in' AND m.op_path = g.op_path || substr(m.op_path, 9)) OR "
                   "(m.io = 'out' AND g.io = 'out' AND m.op_path = substr(m.op_path, 1, 8) || g.op_path))"),
            "100000");
  // One rank only.
  o.rank = 1;
  EXPECT_EQ(compare::compare_runs(s, "g", "m", o).pairs, 50000U);
}

}  // namespace
}  // namespace aitdb
