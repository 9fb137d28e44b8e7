-- torchair graph mode: two GE dumps of one model, typically my run with buffer fusion on against
-- a golden run with it off (docs/compare.md, "ge_ge"). Parameters: ?1 comparison, ?2 golden run,
-- ?3 my run, ?4 include inputs (0/1), ?5 my-side token list or NULL; temp.graph_rank_pairs
-- (graph_rank_pairs.sql) says which ranks face each other.
--
--   * 'ge_name': an op both dumps hold under the same name (same rank, token folder) compares
--     output k with output k (inputs likewise with --inputs);
--   * 'ge_fused': an op of mine the golden run lacks whose name is several graph ops
--     (AutomaticBufferFusionOp 'Add_2Cast_9ConcatV2', decomposed at ingest): its outputs are the
--     last part's outputs; its inputs are the parts' external inputs (graph inputs whose producer
--     is not another part), numbered in part order then input order from the graph text, each
--     compared with that input of that part in the golden dump.
-- Every step is an indexed join: linear in the number of GE ops and tensors.

DROP TABLE IF EXISTS temp.gg_my;
DROP TABLE IF EXISTS temp.gg_want;

CREATE TEMP TABLE gg_my AS
SELECT n.id AS node_id, n.folder, n.token, n.names, n.graph_op_id, rp.g_rank, g.id AS g_node
FROM op_nodes n
JOIN graph_rank_pairs rp ON rp.m_rank = n.rank_key
LEFT JOIN op_nodes g ON g.run_id = ?2 AND g.rank_key = rp.g_rank AND g.folder = n.folder AND g.id_path = n.id_path
WHERE n.run_id = ?3 AND n.kind = 'op' AND n.warmup = 0 AND n.token IS NOT NULL
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || n.token || ',') > 0);

-- (my node, my io, my index) <- (golden node, its index), with the rule.
CREATE TEMP TABLE gg_want (node_id INTEGER NOT NULL, io TEXT NOT NULL, m_index INTEGER, g_node INTEGER NOT NULL,
                           g_index INTEGER, rule TEXT NOT NULL);

INSERT INTO gg_want
SELECT x.node_id, 'same', NULL, x.g_node, NULL, 'ge_name' FROM gg_my x WHERE x.g_node IS NOT NULL;

-- Fused: outputs from the last part.
INSERT INTO gg_want
SELECT x.node_id, 'out', NULL, g.id, NULL, 'ge_fused'
FROM gg_my x
JOIN op_nodes g ON g.run_id = ?2 AND g.rank_key = x.g_rank AND g.folder = x.folder
               AND g.id_path = json_extract(x.names, '$[#-1]')
WHERE x.g_node IS NULL AND json_array_length(x.names) > 1;

-- Fused: external inputs, numbered across the parts.
INSERT INTO gg_want
SELECT e.node_id, 'in', e.ext_index, g.id, e.in_index, 'ge_fused'
FROM (SELECT x.node_id, x.g_rank, x.folder, c.value AS part, CAST(i.key AS INTEGER) AS in_index,
             ROW_NUMBER() OVER (PARTITION BY x.node_id ORDER BY CAST(c.key AS INTEGER), CAST(i.key AS INTEGER)) - 1
               AS ext_index
      FROM gg_my x
      JOIN graph_ops f ON f.id = x.graph_op_id
      JOIN json_each(x.names) c
      JOIN graph_ops p ON p.run_id = f.run_id AND p.pid IS f.pid AND p.graph = f.graph AND p.id_path = c.value
      JOIN json_each(p.in_tensors) i
      WHERE ?4 = 1 AND x.g_node IS NULL AND json_array_length(x.names) > 1
        AND NOT EXISTS (SELECT 1 FROM json_each(x.names) o WHERE o.value = i.value)) e
JOIN op_nodes g ON g.run_id = ?2 AND g.rank_key = e.g_rank AND g.folder = e.folder AND g.id_path = e.part;

INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, g.id, m.id, CAST(mn.token AS TEXT), w.rule, 0
FROM gg_want w
JOIN op_nodes mn ON mn.id = w.node_id
JOIN tensors m ON m.op_node_id = w.node_id
JOIN tensors g ON g.op_node_id = w.g_node AND g.io = m.io AND g.io_index = coalesce(w.g_index, m.io_index)
WHERE m.blob_key IS NOT NULL AND g.blob_key IS NOT NULL
  AND ((w.io = 'same' AND (m.io = 'out' OR (?4 = 1 AND m.io = 'in')))
       OR (w.io = 'out' AND m.io = 'out')
       OR (w.io = 'in' AND m.io = 'in' AND m.io_index = w.m_index));

DROP TABLE temp.gg_want;
DROP TABLE temp.gg_my;
