// Writes the probe's parsed side files (op io CSV rows, cpu_profiling) of one ingest and links
// them to the op graph and the stored tensors (docs/schema.md, "Probe side files").
#include <SQLiteCpp/SQLiteCpp.h>

#include "aitdb/schema/errors.h"
#include "aitdb/schema/ingest_transaction.h"
#include "sqlite_support.h"

namespace aitdb {
namespace {

// Finds op nodes by OpNodeKey with two statements prepared once per file.
class NodeFinder {
 public:
  NodeFinder(SQLite::Database& db, std::int64_t run_id)
      : run_id_(run_id),
        by_rank_(db, "SELECT id FROM op_nodes WHERE run_id = ?1 AND rank_key = ?2 AND folder = ?3 AND id_path = ?4"),
        by_pid_(db, R"sql(SELECT n.id FROM run_ranks rr
                          JOIN op_nodes n ON n.run_id = rr.run_id AND n.rank_key = rr.rank_key
                          WHERE rr.run_id = ?1 AND rr.pid = ?2 AND n.folder = ?3 AND n.id_path = ?4
                          ORDER BY rr.rank_index LIMIT 1)sql") {}

  std::optional<std::int64_t> find(const std::optional<OpNodeKey>& key) {
    if (!key || (!key->rank_key && !key->pid)) return std::nullopt;
    SQLite::Statement& q = key->rank_key ? by_rank_ : by_pid_;
    q.reset();
    q.bind(1, run_id_);
    if (key->rank_key) {
      q.bind(2, *key->rank_key);
    } else {
      q.bind(2, *key->pid);
    }
    q.bind(3, key->folder);
    q.bind(4, key->id_path);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getInt64();
  }

 private:
  std::int64_t run_id_;
  SQLite::Statement by_rank_;
  SQLite::Statement by_pid_;
};

}  // namespace

std::int64_t IngestTransaction::add_op_io_rows(std::int64_t file_id, const std::vector<OpIoRecord>& rows) {
  SQLite::Database& db = *store_.db_;
  std::int64_t unresolved = 0;
  try {
    NodeFinder nodes(db, run_id_);
    SQLite::Statement row_ins(db, R"sql(
      INSERT INTO op_io_rows (run_id, file_id, line, kind, pid, execute_count, case_num, op_name, op_type, id_path,
        op_param, in_num, out_num, data_gen_type, data_gen_range, test_type, test_level, from_model, soc_version,
        expected_error, op_node_id)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21))sql");
    SQLite::Statement tensor_ins(db, R"sql(
      INSERT OR REPLACE INTO op_io_tensors (row_id, io, io_index, dtype, format, shape, file_path, tensor_id)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8))sql");
    // The path's phase first for inputs; after/ first for outputs. The other phase stands in for
    // the probe's before/outtensor paths of runs that saved only after/ (docs/formats.md).
    SQLite::Statement tensor_of(db, R"sql(
      SELECT id FROM tensors WHERE op_node_id = ?1 AND io = ?2 AND io_index = ?3 AND phase IN ('before', 'after')
      ORDER BY (phase = ?4) DESC, id LIMIT 1)sql");
    for (const auto& r : rows) {
      const auto node_id = nodes.find(r.node);
      row_ins.reset();
      row_ins.bind(1, run_id_);
      row_ins.bind(2, file_id);
      row_ins.bind(3, r.line);
      row_ins.bind(4, r.kind);
      detail::bind_opt(row_ins, 5, r.pid);
      detail::bind_opt(row_ins, 6, r.execute_count);
      detail::bind_opt(row_ins, 7, r.case_num);
      row_ins.bind(8, r.op_name);
      detail::bind_opt(row_ins, 9, r.op_type);
      detail::bind_opt(row_ins, 10, r.id_path);
      row_ins.bind(11, r.op_param);
      row_ins.bind(12, r.in_num);
      row_ins.bind(13, r.out_num);
      detail::bind_opt(row_ins, 14, r.data_gen_type);
      detail::bind_opt(row_ins, 15, r.data_gen_range);
      detail::bind_opt(row_ins, 16, r.test_type);
      detail::bind_opt(row_ins, 17, r.test_level);
      detail::bind_opt(row_ins, 18, r.from_model);
      detail::bind_opt(row_ins, 19, r.soc_version);
      detail::bind_opt(row_ins, 20, r.expected_error);
      detail::bind_opt(row_ins, 21, node_id);
      row_ins.exec();
      const std::int64_t row_id = db.getLastInsertRowid();
      for (const auto& t : r.tensors) {
        std::optional<std::int64_t> tensor_id;
        if (t.node) {
          // A kernel row names its op's directory; an operation row's own node is that directory.
          const auto dir_node = r.node && t.node->folder == r.node->folder && t.node->id_path == r.node->id_path &&
                                        t.node->rank_key == r.node->rank_key
                                    ? node_id
                                    : nodes.find(t.node);
          if (dir_node) {
            tensor_of.reset();
            tensor_of.bind(1, *dir_node);
            tensor_of.bind(2, t.file_io);
            tensor_of.bind(3, t.file_index);
            tensor_of.bind(4, t.file_io == "out" ? std::string("after") : t.phase);
            if (tensor_of.executeStep()) tensor_id = tensor_of.getColumn(0).getInt64();
          }
          if (!tensor_id) ++unresolved;
        }
        tensor_ins.reset();
        tensor_ins.bind(1, row_id);
        tensor_ins.bind(2, t.io);
        tensor_ins.bind(3, t.io_index);
        tensor_ins.bind(4, t.dtype);
        tensor_ins.bind(5, t.format);
        tensor_ins.bind(6, shape_to_json(t.shape));
        detail::bind_opt(tensor_ins, 7, t.file_path);
        detail::bind_opt(tensor_ins, 8, tensor_id);
        tensor_ins.exec();
      }
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("storing op io rows failed: ") + e.what());
  }
  return unresolved;
}

void IngestTransaction::add_cpu_profiling(std::int64_t file_id, const std::vector<CpuProfilingRecord>& records) {
  SQLite::Database& db = *store_.db_;
  try {
    NodeFinder nodes(db, run_id_);
    SQLite::Statement ins(db, R"sql(
      INSERT INTO cpu_profiling (run_id, file_id, line, pid, execute_count, op_name, id_path, phase, key, value,
        op_node_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql");
    const OpNodeKey* last_key = nullptr;
    std::optional<std::int64_t> last_node;
    for (const auto& r : records) {
      // Keys of one line share their op: look it up once per line.
      if (last_key == nullptr || !r.node || last_key->id_path != r.node->id_path ||
          last_key->folder != r.node->folder || last_key->pid != r.node->pid ||
          last_key->rank_key != r.node->rank_key) {
        last_node = nodes.find(r.node);
        last_key = r.node ? &*r.node : nullptr;
      }
      ins.reset();
      ins.bind(1, run_id_);
      ins.bind(2, file_id);
      ins.bind(3, r.line);
      detail::bind_opt(ins, 4, r.pid);
      detail::bind_opt(ins, 5, r.execute_count);
      ins.bind(6, r.op_name);
      detail::bind_opt(ins, 7, r.id_path);
      ins.bind(8, r.phase);
      ins.bind(9, r.key);
      ins.bind(10, r.value);
      detail::bind_opt(ins, 11, last_node);
      ins.exec();
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("storing cpu_profiling rows failed: ") + e.what());
  }
}

}  // namespace aitdb
