// `aitdb runs`, `aitdb tensors`, `aitdb comparisons`, `aitdb info`, `aitdb query`: views of the store
// (read-only; `query --write` may change it).
#include <iostream>

#include "aitdb/query/output.h"
#include "aitdb/query/sql_functions.h"
#include "aitdb/schema/errors.h"
#include "commands.h"

namespace aitdb::cli {
namespace {

void add_format_option(CLI::App& cmd, std::string& fmt) {
  cmd.add_option("--format,-f", fmt, "table, csv or json")->check(CLI::IsMember({"table", "csv", "json"}));
}

}  // namespace

void register_runs(CLI::App& app, Context& ctx) {
  auto fmt = std::make_shared<std::string>("table");
  auto* cmd = app.add_subcommand("runs", "List the stored runs");
  add_format_option(*cmd, *fmt);
  add_common_options(*cmd, ctx);
  cmd->callback([fmt, &ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    query::run_query(store,
                     "SELECT r.id, r.name, r.flavour, "
                     "(SELECT count(*) FROM tensors t WHERE t.run_id = r.id) AS tensors, "
                     "(SELECT count(*) FROM files f WHERE f.run_id = r.id) AS files, "
                     "(SELECT count(*) FROM ingest_errors e WHERE e.run_id = r.id) AS errors, "
                     "(SELECT coalesce(sum(t.nbytes), 0) FROM tensors t WHERE t.run_id = r.id AND t.blob_key IS NOT NULL) "
                     "AS raw_bytes, r.created_at, r.source_root FROM runs r ORDER BY r.id",
                     {}, query::parse_output_format(*fmt), std::cout);
  });
}

struct TensorArgs {
  std::string run;
  std::vector<std::int64_t> tokens;
  std::optional<std::int64_t> token_folder;
  std::string op;
  std::string io;
  std::string dtype;
  std::int64_t limit = -1;
  std::string fmt = "table";
};

void register_tensors(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<TensorArgs>();
  auto* cmd = app.add_subcommand("tensors", "List the tensors of a run");
  cmd->add_option("RUN", a->run, "Run name")->required();
  cmd->add_option("--token,--tokens", a->tokens,
                  "Only these logical tokens, e.g. 0,1 (op_nodes.token: after the prefill/decode warm-up remap)")
      ->delimiter(',');
  cmd->add_option("--token-folder", a->token_folder, "Only this token folder on disk (ATB executeCount, torch token)");
  cmd->add_option("--op", a->op, "GLOB on op path, op type or tensor name (e.g. '2_0_*', 'Linear*')");
  cmd->add_option("--io", a->io, "in, out or weight")->check(CLI::IsMember({"in", "out", "weight"}));
  cmd->add_option("--dtype", a->dtype, "Only this dtype (float16, bfloat16, ...)");
  cmd->add_option("--limit", a->limit, "At most this many rows");
  add_format_option(*cmd, a->fmt);
  add_common_options(*cmd, ctx);
  cmd->callback([a, &ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    const auto run = store.find_run(a->run);
    if (!run) throw NotFoundError(a->run, "no such run");
    std::string sql =
        "SELECT t.id, f.rel_path AS file, n.token, t.token AS token_folder, t.op_path, t.op_type, t.phase, t.io, "
        "t.io_index, t.io_name, t.dtype, t.shape, t.min, t.max, t.mean, t.nan_count, t.inf_count "
        "FROM tensors t LEFT JOIN files f ON f.id = t.file_id LEFT JOIN op_nodes n ON n.id = t.op_node_id "
        "WHERE t.run_id = ?1";
    std::vector<SqlValue> params{run->id};
    if (!a->tokens.empty()) {
      sql += " AND n.token IN (";
      for (std::size_t i = 0; i < a->tokens.size(); ++i) {
        sql += (i ? ", ?" : "?") + std::to_string(params.size() + 1);
        params.emplace_back(a->tokens[i]);
      }
      sql += ")";
    }
    if (a->token_folder) {
      sql += " AND t.token = ?" + std::to_string(params.size() + 1);
      params.emplace_back(*a->token_folder);
    }
    if (!a->op.empty()) {
      const auto n = std::to_string(params.size() + 1);
      sql += " AND (t.op_path GLOB ?" + n + " OR t.op_type GLOB ?" + n + " OR t.io_name GLOB ?" + n + ")";
      params.emplace_back(a->op);
    }
    if (!a->io.empty()) {
      sql += " AND t.io = ?" + std::to_string(params.size() + 1);
      params.emplace_back(a->io);
    }
    if (!a->dtype.empty()) {
      sql += " AND t.dtype = ?" + std::to_string(params.size() + 1);
      params.emplace_back(a->dtype);
    }
    sql += " ORDER BY t.id";
    if (a->limit >= 0) sql += " LIMIT " + std::to_string(a->limit);
    query::run_query(store, sql, params, query::parse_output_format(a->fmt), std::cout);
  });
}

void register_query(CLI::App& app, Context& ctx) {
  auto sql = std::make_shared<std::string>();
  auto fmt = std::make_shared<std::string>("table");
  auto write = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("query", "Run SQL against the warehouse (read-only unless --write)");
  cmd->add_option("SQL", *sql, "SQL text (several statements allowed)")->required();
  cmd->add_flag("--write", *write, "Allow statements that change the database (INSERT, UPDATE, DELETE, DDL)");
  add_format_option(*cmd, *fmt);
  add_common_options(*cmd, ctx);
  cmd->callback([sql, fmt, write, &ctx] {
    // Read-only twice over: the connection cannot write, and a writing statement is named before
    // anything runs, so a mistaken DELETE changes nothing and says why.
    Store store = open_store(ctx, *write ? DbAccess::Write : DbAccess::Read);
    query::register_sql_functions(store);  // first: statements that call them must prepare
    const auto writer = store.first_writing_statement(*sql);
    if (writer && !*write) {
      throw UsageError("`" + *writer + "` would change the database; aitdb query is read-only unless --write");
    }
    query::run_query(store, *sql, {}, query::parse_output_format(*fmt), std::cout);
    if (writer) ctx.wrote = true;
  });
}

void register_comparisons(CLI::App& app, Context& ctx) {
  auto run = std::make_shared<std::string>();
  auto fmt = std::make_shared<std::string>("table");
  auto* cmd = app.add_subcommand("comparisons", "List the stored comparisons and where each first diverged");
  cmd->add_option("RUN", *run, "Only comparisons with this run on either side");
  add_format_option(*cmd, *fmt);
  add_common_options(*cmd, ctx);
  cmd->callback([run, fmt, &ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    if (!run->empty() && !store.find_run(*run)) throw NotFoundError(*run, "no such run");
    // first_divergence: my-side position, tensor path and cosine of the earliest diverging pair.
    query::run_query(store,
                     "SELECT c.id, g.name AS golden_run, m.name AS my_run, "
                     "(SELECT group_concat(j.value, ',') FROM json_each(c.matchers) j) AS matcher, "
                     "c.pair_count AS pairs, c.failed_count AS failed, "
                     "CASE WHEN c.finished_at IS NULL THEN 'unfinished' ELSE "
                     "(SELECT printf('#%d %s (cosine %.6f)', fd.seq, fd.my_data_path, fd.cosine_similarity) "
                     "FROM first_divergence fd WHERE fd.comparison_id = c.id LIMIT 1) END AS first_divergence, "
                     "c.started_at AS created "
                     "FROM comparisons c JOIN runs g ON g.id = c.golden_run_id JOIN runs m ON m.id = c.my_run_id "
                     "WHERE ?1 = '' OR ?1 IN (g.name, m.name) ORDER BY c.id",
                     {SqlValue{*run}}, query::parse_output_format(*fmt), std::cout);
  });
}

void register_info(CLI::App& app, Context& ctx) {
  auto* cmd = app.add_subcommand("info", "Sizes, compression and deduplication of the warehouse");
  add_common_options(*cmd, ctx);
  cmd->callback([&ctx] {
    Store store = open_store(ctx, DbAccess::Read);
    const StoreInfo i = store.info();
    const auto mb = [](std::int64_t b) { return static_cast<double>(b) / 1e6; };
    const auto ratio = [](std::int64_t a, std::int64_t b) { return b > 0 ? static_cast<double>(a) / static_cast<double>(b) : 0.0; };
    std::printf("database            %s (%.1f MB, schema v%d)\n", store.path().c_str(), mb(i.db_file_bytes),
                store.schema_version());
    std::printf("runs                %lld\n", static_cast<long long>(i.runs));
    std::printf("tensors             %lld (%lld with stored bytes)\n", static_cast<long long>(i.tensors),
                static_cast<long long>(i.tensors_with_data));
    std::printf("tensor data         %.1f MB referenced, %.1f MB distinct in %lld blobs\n", mb(i.referenced_raw_bytes),
                mb(i.unique_raw_bytes), static_cast<long long>(i.blobs));
    std::printf("stored              %.1f MB\n", mb(i.stored_bytes));
    std::printf("compression ratio   %.3f (distinct raw / stored)\n", ratio(i.unique_raw_bytes, i.stored_bytes));
    std::printf("dedup ratio         %.3f (referenced / distinct)\n", ratio(i.referenced_raw_bytes, i.unique_raw_bytes));
    std::printf("overall ratio       %.3f (referenced / stored)\n", ratio(i.referenced_raw_bytes, i.stored_bytes));
    std::printf("ingest errors       %lld\n", static_cast<long long>(i.ingest_errors));
  });
}

}  // namespace aitdb::cli
