// The write side of one ingest: one IMMEDIATE transaction, statements prepared once.
#include "aitdb/schema/ingest_transaction.h"

#include "aitdb/schema/errors.h"
#include "sqlite_support.h"

namespace aitdb {

using detail::bind_opt;
using detail::opt_text;

struct IngestTransaction::Statements {
  explicit Statements(SQLite::Database& db)
      : file(db, "INSERT INTO files (run_id, rel_path, size, mtime_ns, kind, status, content) VALUES (?,?,?,?,?,?,?)"),
        blob(db,
             "INSERT OR IGNORE INTO blobs (key, codec, elem_size, raw_size, stored_size, chunk_count) "
             "VALUES (?,?,?,?,?,?)"),
        chunk(db, "INSERT INTO blob_chunks (key, seq, data) VALUES (?,?,?)"),
        tensor(db,
               "INSERT INTO tensors (run_id, file_id, source_kind, rank_key, device_id, pid, token, op_path, "
               "op_names, op_type, phase, io, io_index, io_subindex, io_name, dtype, format, shape, numel, "
               "nbytes, blob_key, md5, min, max, mean, std, l2norm, nan_count, inf_count, zero_count, "
               "stats_source, alias_of, flags, op_node_id) VALUES "
               "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
        op_node(db,
                "INSERT INTO op_nodes (run_id, kind, rank_key, folder, id_path, names, name, type, depth, "
                "sibling_pos, param) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (run_id, rank_key, folder, id_path) "
                "DO UPDATE SET param = coalesce(excluded.param, op_nodes.param) RETURNING id"),
        node_groups(db, "SELECT DISTINCT rank_key, folder FROM op_nodes WHERE run_id = ? AND kind = ? ORDER BY 1, 2"),
        nodes_of(db,
                 "SELECT id, id_path, names, type FROM op_nodes WHERE run_id = ? AND kind = ? AND rank_key = ? "
                 "AND folder = ? ORDER BY id"),
        link_node(db,
                  "UPDATE op_nodes SET parent_id = ?, order_key = ?, depth = ?, type = coalesce(?, type), "
                  "sibling_pos = coalesce(?, sibling_pos) WHERE id = ?"),
        graph_op(db,
                 "INSERT INTO graph_ops (run_id, pid, graph, graph_index, id_path, op_name, op_type, param, "
                 "in_tensors, out_tensors) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id"),
        edge(db, "INSERT INTO op_edges (run_id, src_op, dst_op, tensor_name) VALUES (?,?,?,?)"),
        rank(db,
             "INSERT INTO run_ranks (run_id, rank_key, rank_index, device_kind, device_id, pid) VALUES (?,?,?,?,?,?)"),
        error(db, "INSERT INTO ingest_errors (run_id, rel_path, reason) VALUES (?,?,?)"),
        label(db,
              "INSERT INTO labels (run_id, file_id, data_id, token_id, side, golden_path, my_path) VALUES "
              "(?,?,?,?,?,?,?)") {}
  SQLite::Statement file;
  SQLite::Statement blob;
  SQLite::Statement chunk;
  SQLite::Statement tensor;
  SQLite::Statement op_node;
  SQLite::Statement node_groups;
  SQLite::Statement nodes_of;
  SQLite::Statement link_node;
  SQLite::Statement graph_op;
  SQLite::Statement edge;
  SQLite::Statement rank;
  SQLite::Statement error;
  SQLite::Statement label;
};

IngestTransaction::IngestTransaction(Store& store, const RunSpec& spec, bool replace) : store_(store) {
  auto& db = *store_.db_;
  try {
    // One ingest is one transaction; a larger page cache keeps spills to the journal rare.
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA cache_size = -8192");
    db.exec("BEGIN IMMEDIATE");
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("cannot start the ingest transaction: ") + e.what());
  }
  try {
    if (replace) {
      SQLite::Statement del(db, "DELETE FROM runs WHERE name = ?");
      del.bind(1, spec.name);
      del.exec();
      // Blobs no other run references any more.
      db.exec("DELETE FROM blobs WHERE NOT EXISTS (SELECT 1 FROM tensors t WHERE t.blob_key = blobs.key)");
    }
    SQLite::Statement ins(db,
                          "INSERT INTO runs (name, flavour, source_root, tool_version, options) VALUES (?,?,?,?,?)");
    ins.bind(1, spec.name);
    ins.bind(2, spec.flavour);
    ins.bind(3, spec.source_root);
    ins.bind(4, kToolVersion);
    ins.bind(5, spec.options);
    ins.exec();
    run_id_ = db.getLastInsertRowid();
    st_ = std::make_unique<Statements>(db);
  } catch (const SQLite::Exception& e) {
    st_.reset();
    db.exec("ROLLBACK");
    throw StoreError(store_.path(), std::string("cannot create run '") + spec.name + "': " + e.what());
  }
}

IngestTransaction::~IngestTransaction() {
  st_.reset();  // finalize statements before rolling back
  if (!done_) {
    try {
      store_.db_->exec("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
    }
  }
}

std::int64_t IngestTransaction::add_file(const FileRow& f) {
  auto& s = st_->file;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, f.rel_path);
  s.bind(3, f.size);
  bind_opt(s, 4, f.mtime_ns);
  s.bind(5, f.kind);
  s.bind(6, f.status);
  bind_opt(s, 7, f.content);
  s.exec();
  return store_.db_->getLastInsertRowid();
}

bool IngestTransaction::put_blob(const EncodedBlob& b) {
  auto& s = st_->blob;
  s.reset();
  detail::bind_key(s, 1, b.key);
  s.bind(2, b.codec);
  s.bind(3, static_cast<std::int64_t>(b.elem_size));
  s.bind(4, static_cast<std::int64_t>(b.raw_size));
  s.bind(5, static_cast<std::int64_t>(b.stored_size()));
  s.bind(6, static_cast<std::int64_t>(b.chunks.size()));
  if (s.exec() == 0) return false;  // identical bytes already stored
  auto& c = st_->chunk;
  for (std::size_t i = 0; i < b.chunks.size(); ++i) {
    c.reset();
    detail::bind_key(c, 1, b.key);
    c.bind(2, static_cast<std::int64_t>(i));
    c.bindNoCopy(3, b.chunks[i].data(), static_cast<int>(b.chunks[i].size()));
    c.exec();
  }
  return true;
}

std::int64_t IngestTransaction::add_tensor(const TensorRow& t) {
  auto& s = st_->tensor;
  s.reset();
  int i = 1;
  s.bind(i++, run_id_);
  bind_opt(s, i++, t.file_id);
  s.bind(i++, t.source_kind);
  bind_opt(s, i++, t.rank_key);
  bind_opt(s, i++, t.device_id);
  bind_opt(s, i++, t.pid);
  bind_opt(s, i++, t.token);
  bind_opt(s, i++, t.op_path);
  bind_opt(s, i++, t.op_names);
  bind_opt(s, i++, t.op_type);
  bind_opt(s, i++, t.phase);
  bind_opt(s, i++, t.io);
  bind_opt(s, i++, t.io_index);
  bind_opt(s, i++, t.io_subindex);
  bind_opt(s, i++, t.io_name);
  if (t.dtype) {
    s.bind(i++, std::string(dtype_name(*t.dtype)));
  } else {
    s.bind(i++);
  }
  bind_opt(s, i++, t.format);
  if (t.shape) {
    s.bind(i++, shape_to_json(*t.shape));
  } else {
    s.bind(i++);
  }
  bind_opt(s, i++, t.numel);
  bind_opt(s, i++, t.nbytes);
  if (t.blob_key) {
    detail::bind_key(s, i++, *t.blob_key);
  } else {
    s.bind(i++);
  }
  bind_opt(s, i++, t.md5);
  bind_opt(s, i++, t.stats.min);
  bind_opt(s, i++, t.stats.max);
  bind_opt(s, i++, t.stats.mean);
  bind_opt(s, i++, t.stats.std);
  bind_opt(s, i++, t.stats.l2norm);
  if (t.has_stats && t.stats_source == std::optional<std::string>("computed")) {
    s.bind(i++, static_cast<std::int64_t>(t.stats.nan_count));
    s.bind(i++, static_cast<std::int64_t>(t.stats.inf_count));
    s.bind(i++, static_cast<std::int64_t>(t.stats.zero_count));
  } else {
    s.bind(i++);
    s.bind(i++);
    s.bind(i++);
  }
  bind_opt(s, i++, t.stats_source);
  bind_opt(s, i++, t.alias_of);
  bind_opt(s, i++, t.flags);
  bind_opt(s, i++, t.op_node_id);
  s.exec();
  return store_.db_->getLastInsertRowid();
}

std::int64_t IngestTransaction::add_op_node(const OpNodeRow& n) {
  auto& s = st_->op_node;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, n.kind);
  s.bind(3, n.rank_key);
  s.bind(4, n.folder);
  s.bind(5, n.id_path);
  bind_opt(s, 6, n.names);
  bind_opt(s, 7, n.name);
  bind_opt(s, 8, n.type);
  s.bind(9, n.depth);
  bind_opt(s, 10, n.sibling_pos);
  bind_opt(s, 11, n.param);
  if (!s.executeStep()) throw StoreError(store_.path(), "op node insert returned no id");
  const std::int64_t id = s.getColumn(0).getInt64();
  s.reset();
  return id;
}

std::vector<std::pair<std::string, std::string>> IngestTransaction::op_node_groups(const std::string& kind) {
  auto& s = st_->node_groups;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, kind);
  std::vector<std::pair<std::string, std::string>> out;
  while (s.executeStep()) out.emplace_back(s.getColumn(0).getString(), s.getColumn(1).getString());
  s.reset();
  return out;
}

std::vector<OpNodeRef> IngestTransaction::op_nodes_of(const std::string& kind, const std::string& rank_key,
                                                      const std::string& folder) {
  auto& s = st_->nodes_of;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, kind);
  s.bind(3, rank_key);
  s.bind(4, folder);
  std::vector<OpNodeRef> out;
  while (s.executeStep()) {
    out.push_back(OpNodeRef{s.getColumn(0).getInt64(), s.getColumn(1).getString(), opt_text(s.getColumn(2)),
                            opt_text(s.getColumn(3))});
  }
  s.reset();
  return out;
}

void IngestTransaction::link_op_node(std::int64_t id, std::optional<std::int64_t> parent_id,
                                     const std::string& order_key, std::int64_t depth,
                                     const std::optional<std::string>& type, std::optional<std::int64_t> sibling_pos) {
  auto& s = st_->link_node;
  s.reset();
  bind_opt(s, 1, parent_id);
  s.bind(2, order_key);
  s.bind(3, depth);
  bind_opt(s, 4, type);
  bind_opt(s, 5, sibling_pos);
  s.bind(6, id);
  s.exec();
}

std::int64_t IngestTransaction::add_graph_op(const GraphOpRow& g) {
  auto& s = st_->graph_op;
  s.reset();
  s.bind(1, run_id_);
  bind_opt(s, 2, g.pid);
  s.bind(3, g.graph);
  s.bind(4, g.graph_index);
  s.bind(5, g.id_path);
  s.bind(6, g.op_name);
  bind_opt(s, 7, g.op_type);
  bind_opt(s, 8, g.param);
  s.bind(9, g.in_tensors);
  s.bind(10, g.out_tensors);
  if (!s.executeStep()) throw StoreError(store_.path(), "graph op insert returned no id");
  const std::int64_t id = s.getColumn(0).getInt64();
  s.reset();
  return id;
}

void IngestTransaction::add_op_edge(std::int64_t src_op, std::int64_t dst_op, const std::string& tensor_name) {
  auto& s = st_->edge;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, src_op);
  s.bind(3, dst_op);
  s.bind(4, tensor_name);
  s.exec();
}

void IngestTransaction::add_rank(const RankRow& r) {
  auto& s = st_->rank;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, r.rank_key);
  s.bind(3, r.rank_index);
  bind_opt(s, 4, r.device_kind);
  bind_opt(s, 5, r.device_id);
  bind_opt(s, 6, r.pid);
  s.exec();
}

void IngestTransaction::run_sql(const std::string& sql, const std::vector<SqlValue>& params,
                                const std::function<void(const std::vector<SqlValue>&)>& on_row) {
  store_.execute(
      sql, params, [](const std::vector<std::string>&) {},
      [&](const std::vector<SqlValue>& row) {
        if (on_row) on_row(row);
      });
}

void IngestTransaction::add_error(const std::string& rel_path, const std::string& reason) {
  auto& s = st_->error;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, rel_path);
  s.bind(3, reason);
  s.exec();
}

void IngestTransaction::add_label(std::int64_t file_id, const LabelRow& l) {
  auto& s = st_->label;
  s.reset();
  s.bind(1, run_id_);
  s.bind(2, file_id);
  s.bind(3, l.data_id);
  bind_opt(s, 4, l.token_id);
  bind_opt(s, 5, l.side);
  bind_opt(s, 6, l.golden_path);
  bind_opt(s, 7, l.my_path);
  s.exec();
}

void IngestTransaction::set_run_options(const std::string& options_json) {
  SQLite::Statement u(*store_.db_, "UPDATE runs SET options = ? WHERE id = ?");
  u.bind(1, options_json);
  u.bind(2, run_id_);
  u.exec();
}

void IngestTransaction::commit() {
  st_.reset();
  try {
    store_.db_->exec("COMMIT");
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("commit failed: ") + e.what());
  }
  done_ = true;
}

}  // namespace aitdb
