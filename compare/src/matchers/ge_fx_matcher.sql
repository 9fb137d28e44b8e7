-- torchair graph mode: my GE dump against the golden FX dump of the same run (docs/compare.md,
-- "ge_fx"). Parameters: ?1 comparison, ?2 golden (FX) run, ?3 my (GE) run, ?4 include inputs
-- (0/1), ?5 my-side token list or NULL. temp.graph_rank_pairs (graph_rank_pairs.sql) says which
-- ranks face each other.
--
-- Ingest gave every GE op node its constituents (op_nodes.names, decomposed by longest prefix
-- against the graph text) and the graph op of the first one (graph_op_id); graph_ops.out_tensors
-- holds, per output_desc, the FX tensor it was converted from as [fx op key, output index].
--   * outputs: GE output k <- the FX output named by output_desc k of the LAST constituent;
--   * inputs (with --inputs): GE input k <- input k (in (index, element) order) of the FX node
--     that the FIRST constituent's first named output came from;
--   * rule 'ge_fx' for a plain op, 'ge_fx_fused' when it has several constituents;
--   * 'ge_self': an op the graph does not know whose type contains Cast or TransData compares
--     its own input k (golden) with its output k (my).
-- Every step is an indexed join: linear in the number of GE ops and tensors.

DROP TABLE IF EXISTS temp.ge_ops;
DROP TABLE IF EXISTS temp.ge_fx_want;
DROP TABLE IF EXISTS temp.fx_in;

CREATE TEMP TABLE ge_ops AS
SELECT n.id AS node_id, rp.g_rank, n.token,
       json_array_length(n.names) AS parts, f.out_tensors AS first_outs, l.out_tensors AS last_outs
FROM op_nodes n
JOIN graph_rank_pairs rp ON rp.m_rank = n.rank_key
JOIN graph_ops f ON f.id = n.graph_op_id
JOIN graph_ops l ON l.run_id = f.run_id AND l.pid IS f.pid AND l.graph = f.graph
                AND l.id_path = json_extract(n.names, '$[#-1]')
WHERE n.run_id = ?3 AND n.kind = 'op' AND n.warmup = 0 AND n.token IS NOT NULL
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || n.token || ',') > 0);

CREATE TEMP TABLE ge_fx_want (node_id INTEGER NOT NULL, g_rank TEXT NOT NULL, token INTEGER NOT NULL,
                              io TEXT NOT NULL, m_index INTEGER, fx_key TEXT NOT NULL, fx_index INTEGER,
                              rule TEXT NOT NULL);

INSERT INTO ge_fx_want
SELECT o.node_id, o.g_rank, o.token, 'out', CAST(j.key AS INTEGER), json_extract(j.value, '$[0]'),
       json_extract(j.value, '$[1]'), CASE WHEN o.parts > 1 THEN 'ge_fx_fused' ELSE 'ge_fx' END
FROM ge_ops o, json_each(o.last_outs) j
WHERE j.type = 'array';

INSERT INTO ge_fx_want
SELECT x.node_id, x.g_rank, x.token, 'in', NULL, x.fx_key, NULL, x.rule
FROM (SELECT o.node_id, o.g_rank, o.token, CASE WHEN o.parts > 1 THEN 'ge_fx_fused' ELSE 'ge_fx' END AS rule,
             (SELECT json_extract(j.value, '$[0]') FROM json_each(o.first_outs) j
              WHERE j.type = 'array' ORDER BY j.key LIMIT 1) AS fx_key
      FROM ge_ops o WHERE ?4 = 1) x
WHERE x.fx_key IS NOT NULL;

-- FX inputs numbered per node call: index, then list element (INPUT.i.j), numerically.
CREATE TEMP TABLE fx_in AS
SELECT t.id, coalesce(t.rank_key, '') AS rank_key, t.token, t.op_path,
       ROW_NUMBER() OVER (PARTITION BY t.rank_key, t.token, t.op_path
                          ORDER BY t.io_index, coalesce(t.io_subindex, -1), t.id) - 1 AS k
FROM tensors t
WHERE t.run_id = ?2 AND t.io = 'in' AND t.blob_key IS NOT NULL AND ?4 = 1;
CREATE INDEX temp.fx_in_key ON fx_in (op_path, token, rank_key, k);

INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, g.id, m.id, CAST(w.token AS TEXT), w.rule, 0
FROM ge_fx_want w
JOIN tensors m ON m.op_node_id = w.node_id AND m.io = 'out' AND m.io_index = w.m_index
JOIN tensors g ON g.run_id = ?2 AND g.token = w.token AND g.op_path = w.fx_key AND g.io = 'out'
              AND g.io_index = w.fx_index
WHERE w.io = 'out' AND coalesce(g.rank_key, '') = w.g_rank AND g.io_subindex IS NULL
  AND m.blob_key IS NOT NULL AND g.blob_key IS NOT NULL;

INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, g.id, m.id, CAST(w.token AS TEXT), w.rule, 0
FROM ge_fx_want w
JOIN tensors m ON m.op_node_id = w.node_id AND m.io = 'in'
JOIN fx_in g ON g.op_path = w.fx_key AND g.token = w.token AND g.rank_key = w.g_rank AND g.k = m.io_index
WHERE w.io = 'in' AND m.blob_key IS NOT NULL;

-- Cast / TransData the graph does not know (inserted by GE): own input k vs own output k.
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, i.id, o.id, CAST(n.token AS TEXT), 'ge_self', 0
FROM op_nodes n
JOIN tensors o ON o.op_node_id = n.id AND o.io = 'out'
JOIN tensors i ON i.op_node_id = n.id AND i.io = 'in' AND i.io_index = o.io_index
WHERE n.run_id = ?3 AND n.kind = 'op' AND n.warmup = 0 AND n.token IS NOT NULL AND n.graph_op_id IS NULL
  AND (instr(n.type, 'Cast') > 0 OR instr(n.type, 'TransData') > 0)
  AND EXISTS (SELECT 1 FROM graph_rank_pairs rp WHERE rp.m_rank = n.rank_key)
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || n.token || ',') > 0)
  AND o.blob_key IS NOT NULL AND i.blob_key IS NOT NULL;

DROP TABLE temp.fx_in;
DROP TABLE temp.ge_fx_want;
DROP TABLE temp.ge_ops;
