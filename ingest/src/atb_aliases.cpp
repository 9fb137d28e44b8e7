#include "atb_aliases.h"

namespace aitdb::ingest {

std::vector<std::pair<std::string, std::string>> resolve_atb_aliases(IngestTransaction& tx) {
  // alias_of is '<op path>_<intensor|outtensor><k>.bin'; the target lives in the same rank and
  // token, under before/ for inputs and after/ for outputs (docs/formats.md, "ATB dump tree"). An alias row has no
  // stats_source until it is resolved (its target always has one), also in --stats-only runs.
  tx.run_sql(R"sql(
    UPDATE tensors AS a SET
      blob_key = s.blob_key, dtype = s.dtype, format = s.format, shape = s.shape, numel = s.numel,
      nbytes = s.nbytes, min = s.min, max = s.max, mean = s.mean, std = s.std, l2norm = s.l2norm,
      nan_count = s.nan_count, inf_count = s.inf_count, zero_count = s.zero_count,
      stats_source = s.stats_source
    FROM tensors AS s
    WHERE a.run_id = ?1 AND a.alias_of IS NOT NULL AND a.stats_source IS NULL
      AND s.run_id = a.run_id AND s.rank_key IS a.rank_key AND s.token IS a.token
      AND s.alias_of IS NULL
      AND a.alias_of = s.op_path || '_' || (CASE s.io WHEN 'in' THEN 'intensor' ELSE 'outtensor' END)
                       || s.io_index || '.bin'
      AND s.phase = (CASE s.io WHEN 'in' THEN 'before' ELSE 'after' END)
  )sql",
             {tx.run_id()});
  std::vector<std::pair<std::string, std::string>> left;
  tx.run_sql(
      "SELECT coalesce(f.rel_path, ''), t.alias_of FROM tensors t LEFT JOIN files f ON f.id = t.file_id "
      "WHERE t.run_id = ?1 AND t.alias_of IS NOT NULL AND t.stats_source IS NULL ORDER BY t.id",
      {tx.run_id()}, [&](const std::vector<SqlValue>& row) {
        left.emplace_back(std::get<std::string>(row[0]), std::get<std::string>(row[1]));
      });
  return left;
}

}  // namespace aitdb::ingest
