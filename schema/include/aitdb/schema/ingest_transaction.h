#pragma once
// The write side of one ingest (schema/src/ingest_transaction.cpp) and the rows it writes.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb {

struct FileRow {
  std::string rel_path;
  std::int64_t size = 0;
  std::optional<std::int64_t> mtime_ns;
  std::string kind;    // tensor | stats | md5 | alias | aux | other
  std::string status;  // ok | error | skipped
  std::optional<std::string> content;
};

// One executed op of the op graph (a row of `op_nodes`), as the ingest walk meets it. Parents,
// logical tokens and execution order are filled in when the run is finalised.
struct OpNodeRow {
  std::string kind;      // op | module | weight | file
  std::string rank_key;  // '' when the path has no rank folder
  std::string folder;    // token folder, '' when none
  std::string id_path;
  std::optional<std::string> names;  // ATB: JSON array of directory op names
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::int64_t depth = 1;
  std::optional<std::int64_t> sibling_pos;
  std::optional<std::string> param;

  static OpNodeRow of(std::string kind, std::string rank_key, std::string folder, std::string id_path) {
    OpNodeRow n;
    n.kind = std::move(kind);
    n.rank_key = std::move(rank_key);
    n.folder = std::move(folder);
    n.name = id_path;
    n.id_path = std::move(id_path);
    return n;
  }
};

// A node as the finalising pass sees it (one token folder of one rank at a time).
struct OpNodeRef {
  std::int64_t id = 0;
  std::string id_path;
  std::optional<std::string> names;
  std::optional<std::string> type;
};

// One node of an ATB process's static topology (model/layer JSON).
struct GraphOpRow {
  std::optional<std::int64_t> pid;
  std::string graph;  // rel path of the JSON
  std::int64_t graph_index = 0;
  std::string id_path;
  std::string op_name;
  std::optional<std::string> op_type;
  std::optional<std::string> param;
  std::string in_tensors;   // JSON array
  std::string out_tensors;  // JSON array
};

struct RankRow {
  std::string rank_key;
  std::int64_t rank_index = 0;
  std::optional<std::string> device_kind;
  std::optional<std::int64_t> device_id;
  std::optional<std::int64_t> pid;
};

// Where a side file's line points in the op graph: a node of one rank's token folder. The rank is
// named by its folder when the line gives it (a tensor path), else by its process id.
struct OpNodeKey {
  std::optional<std::string> rank_key;
  std::optional<std::int64_t> pid;
  std::string folder;
  std::string id_path;
};

// One input or output listed on an op io CSV row (docs/formats.md, "Operation and kernel io CSV").
struct OpIoTensorRecord {
  std::string io;  // in | out
  std::int64_t io_index = 0;
  std::string dtype;
  std::string format;
  std::vector<std::int64_t> shape;
  std::optional<std::string> file_path;  // as written
  // What file_path names inside the run: the op directory, the phase and the file's own io/index.
  std::optional<OpNodeKey> node;
  std::string phase;
  std::string file_io;
  std::int64_t file_index = 0;
};

// One data row of an op io CSV, with the op it describes.
struct OpIoRecord {
  std::int64_t line = 0;
  std::string kind;  // operation | kernel
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> execute_count;
  std::optional<std::int64_t> case_num;
  std::string op_name;
  std::optional<std::string> op_type;
  std::optional<std::string> id_path;
  std::string op_param;
  std::int64_t in_num = 0;
  std::int64_t out_num = 0;
  std::optional<std::string> data_gen_type, data_gen_range, test_type, test_level, from_model, soc_version,
      expected_error;
  std::optional<OpNodeKey> node;
  std::vector<OpIoTensorRecord> tensors;
};

// One key of one cpu_profiling line (or one cell of msit's converted CSV).
struct CpuProfilingRecord {
  std::int64_t line = 0;
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> execute_count;
  std::string op_name;
  std::optional<std::string> id_path;
  std::string phase;  // setup | execute
  std::string key;
  double value = 0;
  std::optional<OpNodeKey> node;
};

struct LabelRow {
  std::string data_id;
  std::optional<std::string> token_id;
  std::optional<std::string> side;
  std::optional<std::string> golden_path;
  std::optional<std::string> my_path;
};

struct RunSpec {
  std::string name;
  std::string flavour;
  std::string source_root;
  std::string options;  // JSON
};

// The write side of one ingest: a single transaction. Destroying it without commit() rolls back,
// so a failed or killed ingest leaves no trace of the run.
class IngestTransaction {
 public:
  // Starts the transaction and creates the run. With replace, an existing run of that name is
  // deleted inside the same transaction (and orphaned blobs with it).
  IngestTransaction(Store& store, const RunSpec& spec, bool replace);
  ~IngestTransaction();
  IngestTransaction(const IngestTransaction&) = delete;
  IngestTransaction& operator=(const IngestTransaction&) = delete;

  [[nodiscard]] std::int64_t run_id() const { return run_id_; }
  std::int64_t add_file(const FileRow& f);
  // Stores the blob unless its key is already present; returns true when it was new.
  bool put_blob(const EncodedBlob& b);
  std::int64_t add_tensor(const TensorRow& t);
  // Creates the node or, when it exists, adds the param; returns its id.
  std::int64_t add_op_node(const OpNodeRow& node);
  // --- finalising the op graph (ingest/src/op_graph_builder.cpp) ---
  // (rank_key, folder) groups holding nodes of `kind`, and the nodes of one group.
  std::vector<std::pair<std::string, std::string>> op_node_groups(const std::string& kind);
  std::vector<OpNodeRef> op_nodes_of(const std::string& kind, const std::string& rank_key, const std::string& folder);
  void link_op_node(std::int64_t id, std::optional<std::int64_t> parent_id, const std::string& order_key,
                    std::int64_t depth, const std::optional<std::string>& type,
                    std::optional<std::int64_t> sibling_pos);
  std::int64_t add_graph_op(const GraphOpRow& op);
  void add_op_edge(std::int64_t src_op, std::int64_t dst_op, const std::string& tensor_name);
  void add_rank(const RankRow& rank);
  // Statements of the ingest's own finalising steps (op graph), inside this transaction; every
  // statement binds `params` to ?1, ?2, ...; rows of row-returning statements go to on_row.
  void run_sql(const std::string& sql, const std::vector<SqlValue>& params,
               const std::function<void(const std::vector<SqlValue>&)>& on_row = {});
  void add_error(const std::string& rel_path, const std::string& reason);
  // --- probe side files (schema/src/op_io_store.cpp), after the op graph is built ---
  // Rows of one op io CSV (file_id: its `files` row), each linked to the op node its key names
  // and each listed tensor to the stored tensor its path names (inputs: the named phase, else the
  // other; outputs: after/ first, where an output exists once the op ran). Returns how many
  // listed tensor paths named no stored tensor.
  std::int64_t add_op_io_rows(std::int64_t file_id, const std::vector<OpIoRecord>& rows);
  void add_cpu_profiling(std::int64_t file_id, const std::vector<CpuProfilingRecord>& records);
  void add_label(std::int64_t file_id, const LabelRow& label);
  // Replaces the run's options JSON (what the ingest learnt while walking, e.g. the source signature).
  void set_run_options(const std::string& options_json);
  void commit();

 private:
  struct Statements;
  Store& store_;
  std::int64_t run_id_ = 0;
  bool done_ = false;
  std::unique_ptr<Statements> st_;
};

}  // namespace aitdb
