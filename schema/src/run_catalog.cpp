// Lookups over the stored runs and comparisons that the command line's safety checks need: which
// comparisons a run has, whether SQL would write, tensors by the path a report prints.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <memory>

#include "aitdb/schema/store.h"

namespace aitdb {
namespace {

// A statement as shown in a message: surrounding blanks trimmed, long ones cut.
std::string statement_text(const char* sql) {
  constexpr std::size_t kShown = 80;
  std::string s = sql != nullptr ? sql : "";
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  s = s.substr(first, s.find_last_not_of(" \t\r\n;") + 1 - first);
  if (s.size() > kShown) s = s.substr(0, kShown) + "...";
  return s;
}

}  // namespace

std::vector<std::int64_t> Store::comparison_ids_of_run(std::int64_t run_id) const {
  SQLite::Statement q(*db_, "SELECT id FROM comparisons WHERE golden_run_id = ?1 OR my_run_id = ?1 ORDER BY id");
  q.bind(1, run_id);
  std::vector<std::int64_t> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
  return ids;
}

std::optional<std::string> Store::first_writing_statement(const std::string& sql) const {
  sqlite3* h = db_->getHandle();
  const char* tail = sql.c_str();
  const char* end = sql.c_str() + sql.size();
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(h, tail, static_cast<int>(end - tail), &raw, &next) != SQLITE_OK) return std::nullopt;
    const std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    tail = next;
    if (stmt && sqlite3_stmt_readonly(stmt.get()) == 0) return statement_text(sqlite3_sql(stmt.get()));
  }
  return std::nullopt;
}

std::vector<TensorRow> Store::find_tensors_by_report_path(const std::string& path, const std::string& name) const {
  // Two ways to the file: a tree run's root is a prefix of the path and the rest is a file's
  // relative path (the files index finds it); a single-file run (or a tensor with no file) is
  // printed as the root itself.
  SQLite::Statement q(*db_, R"sql(
    SELECT t.id FROM runs r
    JOIN files f ON f.run_id = r.id AND f.rel_path = substr(?1, length(r.source_root) + 2)
    JOIN tensors t ON t.file_id = f.id
    WHERE substr(?1, 1, length(r.source_root) + 1) = r.source_root || '/'
      AND r.flavour NOT IN (SELECT flavour FROM single_file_flavours)
      AND (?2 = '' OR coalesce(t.io_name, '') = ?2)
    UNION
    SELECT t.id FROM runs r
    JOIN tensors t ON t.run_id = r.id
    LEFT JOIN files f ON f.id = t.file_id
    WHERE r.source_root = ?1
      AND (r.flavour IN (SELECT flavour FROM single_file_flavours) OR f.rel_path IS NULL)
      AND (?2 = '' OR coalesce(t.io_name, '') = ?2)
    ORDER BY 1)sql");
  q.bind(1, path);
  q.bind(2, name);
  std::vector<std::int64_t> ids;
  while (q.executeStep()) ids.push_back(q.getColumn(0).getInt64());
  std::vector<TensorRow> out;
  for (const auto id : ids) {
    if (auto t = get_tensor(id)) out.push_back(std::move(*t));
  }
  return out;
}

std::optional<std::int64_t> Store::logical_token(std::int64_t op_node_id) const {
  SQLite::Statement q(*db_, "SELECT token FROM op_nodes WHERE id = ?1");
  q.bind(1, op_node_id);
  if (!q.executeStep() || q.getColumn(0).isNull()) return std::nullopt;
  return q.getColumn(0).getInt64();
}

}  // namespace aitdb
