-- Which rank of the golden run faces which rank of my run in graph mode (GE, FX): msit compares
-- the ranks both dumps have, by rank id (the digits after 'rank' in 'worldsize{W}_global_rank{R}';
-- two runs without rank folders face each other as one rank), or only rank ?9 (--rank R).
-- --rank-map (?6) names the pairs instead, through temp.rank_pairs (rank_pairs.sql).
DROP TABLE IF EXISTS temp.graph_rank_pairs;
CREATE TEMP TABLE graph_rank_pairs (g_rank TEXT NOT NULL, m_rank TEXT NOT NULL, PRIMARY KEY (g_rank, m_rank)) WITHOUT ROWID;

INSERT INTO graph_rank_pairs
SELECT g.rank_key, m.rank_key
FROM run_ranks g
JOIN run_ranks m ON m.run_id = ?3
  AND (CASE WHEN m.rank_key GLOB '*rank[0-9]*' THEN CAST(substr(m.rank_key, length(rtrim(m.rank_key, '0123456789')) + 1) AS INTEGER) END)
   IS (CASE WHEN g.rank_key GLOB '*rank[0-9]*' THEN CAST(substr(g.rank_key, length(rtrim(g.rank_key, '0123456789')) + 1) AS INTEGER) END)
WHERE g.run_id = ?2 AND ?6 IS NULL
  AND (?9 IS NULL OR NOT (m.rank_key GLOB '*rank[0-9]*')
       OR CAST(substr(m.rank_key, length(rtrim(m.rank_key, '0123456789')) + 1) AS INTEGER) = ?9);

INSERT OR IGNORE INTO graph_rank_pairs
SELECT g_rank, m_rank FROM temp.rank_pairs WHERE ?6 IS NOT NULL;
