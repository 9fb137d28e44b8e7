#pragma once
// Builds a run's op graph once its files are stored (docs/schema.md, "Op graph"): ranks, ATB
// topology, parents and missing ancestors, execution order, logical tokens. Runs inside the
// ingest transaction, one rank's token folder at a time, so memory follows the model's size, not
// the dump's.
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "aitdb/schema/ingest_transaction.h"

namespace aitdb::ingest {

struct OpGraphReport {
  std::vector<std::string> notes;                           // e.g. warm-up remaps, for the user
  std::vector<std::pair<std::string, std::string>> errors;  // (rel path, reason) of side files refused
};

OpGraphReport build_op_graph(IngestTransaction& tx);

// Parses the run's operation/kernel io CSVs and cpu_profiling files (kept in `files.content`)
// into their tables, linked to the finished op graph; part of build_op_graph. Bad lines and
// refused files go to rep.errors as ('{rel path}:{line}' or the rel path, reason).
void add_probe_side_files(IngestTransaction& tx, OpGraphReport& rep);

// --- pieces, exposed for tests ---

// A node of model_tree.json in post-order (children before parents; children in file order,
// which is the order they first completed).
struct ModuleTreeNode {
  std::string name;
  std::string type;
  std::string parent;  // "" for the root
  std::int64_t sibling_pos = 0;
  std::int64_t post_order = 0;
};
// Throws FormatError(path, reason) on anything but the documented shape.
std::vector<ModuleTreeNode> parse_module_tree(const std::string& path, const std::string& json_text);

// Rows of one ATB topology JSON (model or layer), top-down, with the dataflow edges between them
// as index pairs into the returned ops.
struct TopologyGraph {
  std::vector<GraphOpRow> ops;
  struct Edge {
    std::size_t src;
    std::size_t dst;
    std::string tensor;
  };
  std::vector<Edge> edges;
  std::int64_t start_id = -1;  // id of the first top-level node
};
// `is_model`: a model JSON (top-level `nodes` are the process's ops) rather than a layer JSON (the
// document itself is one top-level op). `id_shift` is added to top-level ids.
TopologyGraph parse_topology(const std::string& path, const std::string& json_text, bool is_model,
                             std::int64_t id_shift);

// Post-order sort key of an ATB id path ('2_0_3'): a node sorts after its descendants and, among
// siblings, by numeric id.
std::string atb_order_key(const std::string& id_path);
// The same for a dotted module name when no better evidence exists (numeric parts numerically).
std::string dotted_order_key(const std::string& name);

// An integer written in decimal (optionally negative), nullopt for anything else.
std::optional<std::int64_t> to_int(const std::string& s);
// Zero-padded to 10 digits, so order keys sort as numbers (negative values as 0).
std::string fixed(std::int64_t v);

// --- GE graph mode (ge_graph.cpp, docs/formats_graph_mode.md §4) ---

// Op names of one GE graph text, for msit's longest-prefix decomposition of dumped op names: a
// fused op is named by concatenating its parts ('Add_2Cast_9ConcatV2').
class GeOpNameIndex {
 public:
  void add(const std::string& name);
  // The graph ops the name is made of, by repeated longest-prefix match; empty when some part of
  // the name is no graph op.
  [[nodiscard]] std::vector<std::string> decompose(const std::string& dump_op_name) const;

 private:
  std::unordered_set<std::string> names_;
  std::vector<std::size_t> lengths_;  // distinct name lengths, longest first
};

// What a dumped GE op learnt from the graph text.
struct GeNodeLink {
  std::int64_t node_id = 0;
  std::vector<std::string> constituents;    // empty: the graph does not know the op
  std::optional<std::int64_t> graph_op_id;  // the first constituent
  std::optional<std::int64_t> position;     // its place in graph order
  std::string order_key;
};
// Stores every dynamo_original_graph_*.txt of the run as graph_ops and gives each GE op node its
// order key; returns the links for apply_ge_links(), which runs after the finalising SQL.
std::vector<GeNodeLink> link_ge_nodes(IngestTransaction& tx, OpGraphReport& rep);
void apply_ge_links(IngestTransaction& tx, const std::vector<GeNodeLink>& links);

}  // namespace aitdb::ingest
