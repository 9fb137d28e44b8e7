#pragma once
// Builds a run's op graph once its files are stored (docs/schema.md, "Op graph"): ranks, ATB
// topology, parents and missing ancestors, execution order, logical tokens. Runs inside the
// ingest transaction, one rank's token folder at a time, so memory follows the model's size, not
// the dump's.
#include <string>
#include <vector>

#include "aitdb/schema/ingest_transaction.h"

namespace aitdb::ingest {

struct OpGraphReport {
  std::vector<std::string> notes;                            // e.g. warm-up remaps, for the user
  std::vector<std::pair<std::string, std::string>> errors;   // (rel path, reason) of side files refused
};

OpGraphReport build_op_graph(IngestTransaction& tx);

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

}  // namespace aitdb::ingest
