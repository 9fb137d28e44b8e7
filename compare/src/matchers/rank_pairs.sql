-- Which rank of the golden run faces which rank of my run, for every matcher that pairs ranks:
-- by rank order (device id, then pid) unless ?6, a JSON object {golden rank: my rank} from
-- --rank-map, names them (by rank folder or device id). Rank order pairs a CPU golden ('cpu_…')
-- with an NPU run ('npu0_…', '0_…') whose device ids can never be equal.
DROP TABLE IF EXISTS temp.rank_pairs;
CREATE TEMP TABLE rank_pairs (g_rank TEXT NOT NULL, m_rank TEXT NOT NULL, PRIMARY KEY (g_rank, m_rank)) WITHOUT ROWID;

INSERT INTO rank_pairs
SELECT g.rank_key, m.rank_key
FROM run_ranks g JOIN run_ranks m ON m.run_id = ?3 AND m.rank_index = g.rank_index
WHERE g.run_id = ?2 AND ?6 IS NULL;

INSERT OR IGNORE INTO rank_pairs
SELECT g.rank_key, m.rank_key
FROM json_each(coalesce(?6, '{}')) j
JOIN run_ranks g ON g.run_id = ?2 AND j.key IN (g.rank_key, CAST(g.device_id AS TEXT))
JOIN run_ranks m ON m.run_id = ?3 AND CAST(j.value AS TEXT) IN (m.rank_key, CAST(m.device_id AS TEXT));
