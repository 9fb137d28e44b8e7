// Comparison storage: a comparison written in one transaction, the MD5 cache of the matchers
// that pair by content, and the opcheck/errcheck result rows.
#include "aitdb/schema/comparison_store.h"

#include "aitdb/schema/errors.h"
#include "sqlite_support.h"

namespace aitdb {

using detail::bind_opt;
using detail::opt_int;

std::size_t Store::cache_input_blob_md5(std::int64_t run_id) {
  std::vector<std::vector<std::uint8_t>> keys;
  execute(
      "SELECT DISTINCT b.key FROM tensors t JOIN blobs b ON b.key = t.blob_key "
      "WHERE t.run_id = ?1 AND t.io = 'in' AND b.md5 IS NULL",
      {run_id}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) { keys.push_back(std::get<std::vector<std::uint8_t>>(r[0])); });
  ByteBuffer bytes;
  SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);  // one commit for all the hashes
  for (const auto& k : keys) {
    read_blob_into(BlobKey::from_bytes(k), "input blob of run " + std::to_string(run_id), bytes);
    execute(
        "UPDATE blobs SET md5 = ?1 WHERE key = ?2",
        {md5_hex(std::span<const std::byte>(bytes.data(), bytes.size())), k}, [](const auto&) {}, [](const auto&) {});
  }
  tx.commit();
  return keys.size();
}

// ----------------------------------------------------------------------------------------------
// ComparisonTransaction

struct ComparisonTransaction::Statements {
  explicit Statements(SQLite::Database& db)
      : pairs(db, R"sql(
          SELECT p.id, p.seq, g.id, g.blob_key, g.dtype, coalesce(g.numel, 0),
                 gr.name || ':' || coalesce(gf.rel_path, ''),
                 m.id, m.blob_key, m.dtype, coalesce(m.numel, 0), mr.name || ':' || coalesce(mf.rel_path, ''),
                 mn.token
          FROM pairs p
          JOIN tensors g ON g.id = p.golden_tensor_id JOIN runs gr ON gr.id = g.run_id
          LEFT JOIN files gf ON gf.id = g.file_id
          JOIN tensors m ON m.id = p.my_tensor_id JOIN runs mr ON mr.id = m.run_id
          LEFT JOIN files mf ON mf.id = m.file_id
          LEFT JOIN op_nodes mn ON mn.id = m.op_node_id
          WHERE p.comparison_id = ? AND p.seq > ? ORDER BY p.seq LIMIT ?)sql"),
        result(db, "INSERT OR REPLACE INTO results VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)") {}
  SQLite::Statement pairs;
  SQLite::Statement result;
};

ComparisonTransaction::ComparisonTransaction(Store& store, std::int64_t golden_run, std::int64_t my_run,
                                             const std::string& options_json,
                                             const std::vector<std::pair<std::string, std::string>>& matchers,
                                             const std::vector<SqlValue>& extra)
    : store_(store) {
  auto& db = *store_.db_;
  try {
    db.exec("BEGIN IMMEDIATE");  // the write lock first: a second writer waits, never fails half-way
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("cannot start the comparison transaction: ") + e.what());
  }
  try {
    std::string names = "[";
    for (std::size_t i = 0; i < matchers.size(); ++i) names += (i ? ",\"" : "\"") + matchers[i].first + "\"";
    names += "]";
    SQLite::Statement ins(db, "INSERT INTO comparisons (golden_run_id, my_run_id, matchers, options) VALUES (?,?,?,?)");
    ins.bind(1, golden_run);
    ins.bind(2, my_run);
    ins.bind(3, names);
    ins.bind(4, options_json);
    ins.exec();
    id_ = db.getLastInsertRowid();
    std::vector<SqlValue> params{id_, golden_run, my_run};
    params.insert(params.end(), extra.begin(), extra.end());
    for (const auto& m : matchers)
      store_.execute(
          m.second, params, [](const auto&) {}, [](const auto&) {});
    // Number pairs in my-side execution order: logical token, the op's place in the token's
    // execution, rank, then inputs before outputs by index.
    SQLite::Statement seq(db, R"sql(
      UPDATE pairs SET seq = x.rn FROM (
        SELECT p.id AS id,
               ROW_NUMBER() OVER (ORDER BY n.token IS NULL, n.token, n.exec_order, rr.rank_index,
                                           CASE m.io WHEN 'in' THEN 0 WHEN 'out' THEN 1 ELSE 2 END,
                                           m.io_index, m.io_subindex, m.id, g.id) - 1 AS rn
        FROM pairs p
        JOIN tensors m ON m.id = p.my_tensor_id
        JOIN tensors g ON g.id = p.golden_tensor_id
        LEFT JOIN op_nodes n ON n.id = m.op_node_id
        LEFT JOIN run_ranks rr ON rr.run_id = m.run_id AND rr.rank_key = n.rank_key
        WHERE p.comparison_id = ?1) AS x
      WHERE pairs.id = x.id)sql");
    seq.bind(1, id_);
    seq.exec();
    st_ = std::make_unique<Statements>(db);
  } catch (const SQLite::Exception& e) {
    db.exec("ROLLBACK");
    throw StoreError(store_.path(), std::string("comparison failed: ") + e.what());
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

ComparisonTransaction::~ComparisonTransaction() {
  st_.reset();  // finalize statements before rolling back
  if (!done_) {
    try {
      store_.db_->exec("ROLLBACK");
    } catch (...) {  // NOLINT(bugprone-empty-catch): nothing sensible to do in a destructor
    }
  }
}

std::vector<PairTask> ComparisonTransaction::pair_tasks(std::int64_t after_seq, std::size_t limit) {
  SQLite::Statement& q = st_->pairs;
  q.reset();
  q.bind(1, id_);
  q.bind(2, after_seq);
  q.bind(3, static_cast<std::int64_t>(limit));
  std::vector<PairTask> out;
  const auto side = [&](int c, PairTask::Side& s) {
    s.tensor_id = q.getColumn(c).getInt64();
    if (const SQLite::Column key = q.getColumn(c + 1); !key.isNull()) s.blob_key = detail::key_of(key);
    if (!q.getColumn(c + 2).isNull()) s.dtype = dtype_from_name(q.getColumn(c + 2).getString());
    s.numel = q.getColumn(c + 3).getInt64();
    s.describe = "tensor " + std::to_string(s.tensor_id) + " (" + q.getColumn(c + 4).getString() + ")";
  };
  while (q.executeStep()) {
    PairTask t;
    t.pair_id = q.getColumn(0).getInt64();
    t.seq = q.getColumn(1).getInt64();
    side(2, t.golden);
    side(7, t.my);
    t.my_token = opt_int(q.getColumn(12));
    out.push_back(std::move(t));
  }
  q.reset();
  return out;
}

void ComparisonTransaction::add_results(const std::vector<PairResultRow>& rows) {
  try {
    SQLite::Statement& ins = st_->result;
    for (const auto& r : rows) {
      ins.reset();
      int i = 1;
      ins.bind(i++, r.pair_id);
      for (const auto* v : {&r.cosine_similarity, &r.max_relative_error, &r.mean_relative_error, &r.max_absolute_error,
                            &r.mean_absolute_error, &r.kl_divergence, &r.relative_euclidean_distance, &r.euc_dist,
                            &r.msprobe_cosine, &r.one_thousandth_err_ratio, &r.five_thousandths_err_ratio}) {
        bind_opt(ins, i++, *v);
      }
      bind_opt(ins, i++, r.accuracy_reached);
      ins.bind(i++, r.cmp_fail_reason);
      ins.exec();
    }
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("writing results failed: ") + e.what());
  }
}

void ComparisonTransaction::commit() {
  auto& db = *store_.db_;
  try {
    SQLite::Statement fin(db, R"sql(
      UPDATE comparisons SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
        pair_count = (SELECT count(*) FROM pairs WHERE comparison_id = ?1),
        failed_count = (SELECT count(*) FROM pairs p JOIN results r ON r.pair_id = p.id
                        WHERE p.comparison_id = ?1 AND r.cmp_fail_reason <> '')
      WHERE id = ?1)sql");
    fin.bind(1, id_);
    fin.exec();
    st_.reset();
    db.exec("COMMIT");
  } catch (const SQLite::Exception& e) {
    throw StoreError(store_.path(), std::string("writing results failed: ") + e.what());
  }
  done_ = true;
}

void Store::write_opcheck_results(const std::vector<OpcheckResultRow>& rows) {
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement drop(*db_, "DELETE FROM opcheck_results WHERE op_node_id = ?");
    SQLite::Statement ins(*db_, R"sql(
      INSERT INTO opcheck_results (run_id, op_node_id, op_id, op_name, op_param, tensor_path, out_tensor_id, status,
        precision_standard, rel_precision_rate, max_rel_error, abs_precision_rate, max_abs_error, cosine_similarity,
        kl_divergence, fail_reason, precision_mode)
      VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?))sql");
    std::optional<std::int64_t> cleared;  // rows of one op arrive together
    for (const auto& r : rows) {
      if (cleared != r.op_node_id) {
        drop.reset();
        drop.bind(1, r.op_node_id);
        drop.exec();
        cleared = r.op_node_id;
      }
      ins.reset();
      int i = 1;
      ins.bind(i++, r.run_id);
      ins.bind(i++, r.op_node_id);
      ins.bind(i++, r.op_id);
      ins.bind(i++, r.op_name);
      ins.bind(i++, r.op_param);
      bind_opt(ins, i++, r.tensor_path);
      bind_opt(ins, i++, r.out_tensor_id);
      ins.bind(i++, r.status);
      bind_opt(ins, i++, r.precision_standard);
      for (const auto* v : {&r.rel_precision_rate, &r.max_rel_error, &r.abs_precision_rate, &r.max_abs_error,
                            &r.cosine_similarity, &r.kl_divergence}) {
        bind_opt(ins, i++, *v);
      }
      ins.bind(i++, r.fail_reason);
      ins.bind(i++, r.precision_mode);
      ins.exec();
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("writing opcheck results failed: ") + e.what());
  }
}

void Store::write_errcheck_results(std::int64_t run_id, const std::string& source,
                                   const std::vector<ErrcheckResultRow>& rows) {
  try {
    SQLite::Transaction tx(*db_, SQLite::TransactionBehavior::IMMEDIATE);
    SQLite::Statement drop(*db_, "DELETE FROM errcheck_results WHERE run_id = ? AND source = ?");
    drop.bind(1, run_id);
    drop.bind(2, source);
    drop.exec();
    SQLite::Statement ins(*db_, R"sql(
      INSERT INTO errcheck_results (run_id, source, tensor_id, op_node_id, op_name, nan_count, inf_count,
        saturated_count, first_overflow) VALUES (?,?,?,?,?,?,?,?,?))sql");
    for (const auto& r : rows) {
      ins.reset();
      ins.bind(1, run_id);
      ins.bind(2, source);
      bind_opt(ins, 3, r.tensor_id);
      bind_opt(ins, 4, r.op_node_id);
      bind_opt(ins, 5, r.op_name);
      ins.bind(6, r.nan_count);
      ins.bind(7, r.inf_count);
      ins.bind(8, r.saturated_count);
      ins.bind(9, r.first_overflow ? 1 : 0);
      ins.exec();
    }
    tx.commit();
  } catch (const SQLite::Exception& e) {
    throw StoreError(path_, std::string("writing errcheck results failed: ") + e.what());
  }
}

}  // namespace aitdb
