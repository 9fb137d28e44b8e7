// Raw SQL on the store's connection: ad-hoc statements (Store::execute) and the scalar
// functions registered on it (Store::add_function).
#include "aitdb/schema/errors.h"
#include "sqlite_support.h"

namespace aitdb {

void Store::execute(const std::string& sql, const std::vector<SqlValue>& params,
                    const std::function<void(const std::vector<std::string>&)>& on_header,
                    const std::function<void(const std::vector<SqlValue>&)>& on_row) {
  sqlite3* h = db_->getHandle();
  const char* tail = sql.c_str();
  const char* end = sql.c_str() + sql.size();
  // Every statement's rows stream out as they come, each statement's header before its first
  // row; nothing is buffered per statement.
  while (tail < end) {
    sqlite3_stmt* raw = nullptr;
    const char* next = nullptr;
    if (sqlite3_prepare_v2(h, tail, static_cast<int>(end - tail), &raw, &next) != SQLITE_OK) {
      throw Error(ErrorKind::Usage, "", std::string("SQL error: ") + sqlite3_errmsg(h));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(raw, &sqlite3_finalize);
    tail = next;
    if (!stmt) continue;  // whitespace or comment only
    const int nparam = sqlite3_bind_parameter_count(stmt.get());
    for (int k = 0; k < nparam && k < static_cast<int>(params.size()); ++k) {
      const auto& v = params[static_cast<std::size_t>(k)];
      if (std::holds_alternative<std::int64_t>(v)) {
        sqlite3_bind_int64(stmt.get(), k + 1, std::get<std::int64_t>(v));
      } else if (std::holds_alternative<double>(v)) {
        sqlite3_bind_double(stmt.get(), k + 1, std::get<double>(v));
      } else if (std::holds_alternative<std::string>(v)) {
        const auto& str = std::get<std::string>(v);
        sqlite3_bind_text(stmt.get(), k + 1, str.data(), static_cast<int>(str.size()), SQLITE_TRANSIENT);
      } else if (std::holds_alternative<std::vector<std::uint8_t>>(v)) {
        const auto& b = std::get<std::vector<std::uint8_t>>(v);
        sqlite3_bind_blob(stmt.get(), k + 1, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
      } else {
        sqlite3_bind_null(stmt.get(), k + 1);
      }
    }
    const int ncol = sqlite3_column_count(stmt.get());
    bool header_sent = false;
    std::vector<SqlValue> row(static_cast<std::size_t>(ncol));
    for (;;) {
      const int rc = sqlite3_step(stmt.get());
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) throw Error(ErrorKind::Usage, "", std::string("SQL error: ") + sqlite3_errmsg(h));
      if (!header_sent) {
        std::vector<std::string> names;
        for (int c = 0; c < ncol; ++c) names.emplace_back(sqlite3_column_name(stmt.get(), c));
        on_header(names);
        header_sent = true;
      }
      for (int c = 0; c < ncol; ++c) {
        auto& v = row[static_cast<std::size_t>(c)];
        switch (sqlite3_column_type(stmt.get(), c)) {
          case SQLITE_INTEGER:
            v = static_cast<std::int64_t>(sqlite3_column_int64(stmt.get(), c));
            break;
          case SQLITE_FLOAT:
            v = sqlite3_column_double(stmt.get(), c);
            break;
          case SQLITE_TEXT:
            v = std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c)),
                            static_cast<std::size_t>(sqlite3_column_bytes(stmt.get(), c)));
            break;
          case SQLITE_BLOB: {
            const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt.get(), c));
            v = std::vector<std::uint8_t>(p, p + sqlite3_column_bytes(stmt.get(), c));
            break;
          }
          default:
            v = std::monostate{};
        }
      }
      on_row(row);
    }
    if (!header_sent && ncol > 0 && tail >= end) {
      std::vector<std::string> names;
      for (int c = 0; c < ncol; ++c) names.emplace_back(sqlite3_column_name(stmt.get(), c));
      on_header(names);
    }
  }
}

namespace {
SqlValue from_sqlite(sqlite3_value* v) {
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_value_int64(v));
    case SQLITE_FLOAT:
      return sqlite3_value_double(v);
    case SQLITE_TEXT:
      return std::string(reinterpret_cast<const char*>(sqlite3_value_text(v)),
                         static_cast<std::size_t>(sqlite3_value_bytes(v)));
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_value_blob(v));
      return std::vector<std::uint8_t>(p, p + sqlite3_value_bytes(v));
    }
    default:
      return std::monostate{};
  }
}

void call_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  auto* fn = static_cast<Store::SqlFunction*>(sqlite3_user_data(ctx));
  std::vector<SqlValue> args;
  for (int i = 0; i < argc; ++i) args.push_back(from_sqlite(argv[i]));
  try {
    const SqlValue r = (*fn)(args);
    if (std::holds_alternative<std::int64_t>(r)) {
      sqlite3_result_int64(ctx, std::get<std::int64_t>(r));
    } else if (std::holds_alternative<double>(r)) {
      sqlite3_result_double(ctx, std::get<double>(r));
    } else if (std::holds_alternative<std::string>(r)) {
      const auto& s = std::get<std::string>(r);
      sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_result_null(ctx);
    }
  } catch (const std::exception& e) {
    sqlite3_result_error(ctx, e.what(), -1);
  }
}
}  // namespace

void Store::add_function(const std::string& name, int nargs, SqlFunction fn, bool deterministic) {
  functions_.push_back(std::make_unique<SqlFunction>(std::move(fn)));
  const int flags = SQLITE_UTF8 | (deterministic ? SQLITE_DETERMINISTIC : 0);
  if (sqlite3_create_function_v2(db_->getHandle(), name.c_str(), nargs, flags, functions_.back().get(), &call_function,
                                 nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw StoreError(path_, "cannot register SQL function " + name);
  }
}

}  // namespace aitdb
