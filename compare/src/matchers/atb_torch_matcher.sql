-- Automatic ATB <-> torch mapping (docs/compare.md, "atb_torch"): golden = torch module tree, my =
-- ATB op tree, staged over the op graph. Parameters: ?1 comparison, ?2 golden run, ?3 my run,
-- ?5 my-side token list or NULL, ?7 levels ('layer,module'), ?8 user op mapping (atb_torch_op_map.sql,
-- run before this). temp.rank_pairs says which ranks face each other.
--
-- Steps, each an indexed join or one window pass (n log n in nodes and tensors):
--   1. layer detection per side, rank and token; the k-th layer of each side pair (layer level);
--   2. ops outside the layers by name (layer level, at_special_map);
--   3. inside each layer pair: direct children by name (at_module_map) and ops by type through
--      the op table (at_op_map), zipped in execution order when both sides have as many (module level);
--   4. tensors of every op pair: outputs by index, or the one file a rule names.
-- Ties are broken by execution order, then node id: never by set order.

DROP TABLE IF EXISTS temp.at_nodes;
DROP TABLE IF EXISTS temp.at_child_types;
DROP TABLE IF EXISTS temp.at_layer_type;
DROP TABLE IF EXISTS temp.at_layers;
DROP TABLE IF EXISTS temp.at_layer_pairs;
DROP TABLE IF EXISTS temp.at_members;
DROP TABLE IF EXISTS temp.at_node_pairs;
DROP TABLE IF EXISTS temp.at_tensors;

CREATE TEMP TABLE at_nodes AS
SELECT n.id, 'g' AS side, n.rank_key, n.token, n.parent_id, n.name, lower(n.id_path) AS match_name,
       n.type, n.exec_order, n.sibling_pos, n.param, n.depth,
       EXISTS (SELECT 1 FROM op_nodes c WHERE c.parent_id = n.id) AS has_children
FROM op_nodes n
WHERE n.run_id = ?2 AND n.warmup = 0 AND n.kind = 'module' AND n.token IS NOT NULL
UNION ALL
SELECT n.id, 'm', n.rank_key, n.token, n.parent_id, n.name, lower(coalesce(go.op_name, n.name)),
       n.type, n.exec_order, n.sibling_pos, n.param, n.depth,
       EXISTS (SELECT 1 FROM op_nodes c WHERE c.parent_id = n.id)
FROM op_nodes n
LEFT JOIN graph_ops go ON go.id = n.graph_op_id
WHERE n.run_id = ?3 AND n.warmup = 0 AND n.kind = 'op' AND n.token IS NOT NULL
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || n.token || ',') > 0);

CREATE INDEX temp.at_nodes_parent ON at_nodes (parent_id);
CREATE INDEX temp.at_nodes_type ON at_nodes (side, rank_key, token, type);

-- 1. Layer type per side, rank and token: msit's rule first (a parent with more than 10 children
-- whose most frequent child type occurs more than 5 times); models with too few layers for it fall
-- back to the shallowest child type that repeats and whose nodes all have children of their own
-- (msit finds no layers there: quirk 8). Ties: shallowest parent, more repeats, earliest run.
CREATE TEMP TABLE at_child_types AS
SELECT c.side, c.rank_key, c.token, c.parent_id, c.type, count(*) AS cnt, sum(c.has_children) AS inner_cnt,
       min(c.exec_order) AS first_exec, coalesce(p.depth, 0) AS parent_depth
FROM at_nodes c
LEFT JOIN at_nodes p ON p.id = c.parent_id
WHERE c.type IS NOT NULL
GROUP BY c.side, c.rank_key, c.token, c.parent_id, c.type;

CREATE TEMP TABLE at_layer_type AS
SELECT side, rank_key, token, type FROM (
  SELECT x.*, ROW_NUMBER() OVER (PARTITION BY side, rank_key, token
                                 ORDER BY msit_rule DESC, parent_depth, cnt DESC, first_exec, type) AS rn
  FROM (SELECT ct.*,
               (sum(cnt) OVER w > 10 AND cnt > 5 AND cnt = max(cnt) OVER w) AS msit_rule
        FROM at_child_types ct
        WINDOW w AS (PARTITION BY side, rank_key, token, parent_id)) x
  WHERE msit_rule OR (cnt >= 2 AND inner_cnt = cnt))
WHERE rn = 1;

-- Layers: nodes of the layer type not nested in one, numbered in execution order.
CREATE TEMP TABLE at_layers AS
SELECT n.id, n.side, n.rank_key, n.token,
       ROW_NUMBER() OVER (PARTITION BY n.side, n.rank_key, n.token ORDER BY n.exec_order, n.id) AS k
FROM at_layer_type lt
JOIN at_nodes n ON n.side = lt.side AND n.rank_key = lt.rank_key AND n.token IS lt.token AND n.type = lt.type
LEFT JOIN at_nodes p ON p.id = n.parent_id
WHERE p.type IS NOT lt.type;
CREATE INDEX temp.at_layers_k ON at_layers (side, rank_key, token, k);

CREATE TEMP TABLE at_layer_pairs AS
SELECT g.id AS g_id, m.id AS m_id
FROM at_layers g
JOIN rank_pairs rp ON rp.g_rank = g.rank_key
JOIN at_layers m ON m.side = 'm' AND m.rank_key = rp.m_rank AND m.token = g.token AND m.k = g.k
WHERE g.side = 'g';

-- Every node below a layer (the layer included), with the layer pair it belongs to.
CREATE TEMP TABLE at_members AS
WITH RECURSIVE below (pair_no, side, root_id, id) AS (
  SELECT lp.rowid, 'g', lp.g_id, lp.g_id FROM at_layer_pairs lp
  UNION ALL
  SELECT lp.rowid, 'm', lp.m_id, lp.m_id FROM at_layer_pairs lp
  UNION ALL
  SELECT b.pair_no, b.side, b.root_id, c.id FROM below b JOIN at_nodes c ON c.parent_id = b.id
)
SELECT b.pair_no, b.side, b.root_id, n.id, n.parent_id, n.name, n.match_name, n.type, n.exec_order, n.sibling_pos,
       n.param, n.has_children
FROM below b JOIN at_nodes n ON n.id = b.id;
CREATE INDEX temp.at_members_pair ON at_members (pair_no, side, parent_id);

CREATE TEMP TABLE at_node_pairs (
  g_id INTEGER NOT NULL, m_id INTEGER NOT NULL, g_loc TEXT NOT NULL, m_loc TEXT NOT NULL, rule TEXT NOT NULL,
  UNIQUE (g_id, m_id, g_loc, m_loc));

-- Layer level: the k-th layers ...
INSERT OR IGNORE INTO at_node_pairs
SELECT g_id, m_id, '', '', 'atb_torch:layer' FROM at_layer_pairs
WHERE instr(',' || ?7 || ',', ',layer,') > 0
ORDER BY rowid;

-- ... and the ops around them (embedding, final norm, lm head), zipped in execution order.
INSERT OR IGNORE INTO at_node_pairs
WITH gs AS (
  SELECT DISTINCT s.rule_no, n.id, n.rank_key, n.token, n.exec_order
  FROM at_special_map s JOIN at_nodes n ON n.side = 'g' AND n.match_name GLOB s.torch_glob
  WHERE s.torch_not IS NULL OR n.match_name NOT GLOB s.torch_not),
ms AS (
  SELECT DISTINCT s.rule_no, n.id, n.rank_key, n.token, n.exec_order
  FROM at_special_map s JOIN at_nodes n ON n.side = 'm' AND n.match_name GLOB s.my_glob
  WHERE s.my_not IS NULL OR n.match_name NOT GLOB s.my_not),
gk AS (SELECT gs.*, ROW_NUMBER() OVER (PARTITION BY rule_no, rank_key, token ORDER BY exec_order, id) AS k FROM gs),
mk AS (SELECT ms.*, ROW_NUMBER() OVER (PARTITION BY rule_no, rank_key, token ORDER BY exec_order, id) AS k FROM ms)
SELECT g.id, m.id, '', '', 'atb_torch:layer_special'
FROM gk g
JOIN rank_pairs rp ON rp.g_rank = g.rank_key
JOIN mk m ON m.rule_no = g.rule_no AND m.rank_key = rp.m_rank AND m.token = g.token AND m.k = g.k
WHERE instr(',' || ?7 || ',', ',layer,') > 0
ORDER BY g.rule_no, g.k;

-- Module level: a layer's direct children by name (Attention <-> self_attn, Mlp <-> mlp, ...).
INSERT OR IGNORE INTO at_node_pairs
WITH mc AS (
  SELECT k.my_key, c.pair_no, c.id,
         ROW_NUMBER() OVER (PARTITION BY k.my_key, c.pair_no ORDER BY c.exec_order, c.id) AS k
  FROM (SELECT DISTINCT my_key FROM at_module_map) k
  JOIN at_members c ON c.side = 'm' AND c.id <> c.root_id AND c.parent_id = c.root_id AND instr(c.name, k.my_key) > 0),
gc AS (
  SELECT my_key, pair_no, id, ROW_NUMBER() OVER (PARTITION BY my_key, pair_no ORDER BY exec_order, id) AS k
  FROM (SELECT DISTINCT mm.my_key, c.pair_no, c.id, c.exec_order
        FROM at_module_map mm
        JOIN at_members c ON c.side = 'g' AND c.id <> c.root_id AND c.parent_id = c.root_id
                          AND instr(c.name, mm.torch_part) > 0))
SELECT g.id, m.id, '', '', 'atb_torch:module'
FROM mc m JOIN gc g ON g.my_key = m.my_key AND g.pair_no = m.pair_no AND g.k = m.k
WHERE instr(',' || ?7 || ',', ',module,') > 0
ORDER BY m.pair_no, m.my_key, m.k;

-- Module level: ops by type through the op table, per layer pair. Built-in rows take leaves of
-- exactly that type; an un-biased LinearOperation whose next sibling is an ADD Elewise (elewiseType
-- 8) stands for that sibling, which adds the bias. Custom rows take any node of the layer whose
-- type contains the table's type. A rule pairs only when both sides have as many such ops.
INSERT OR IGNORE INTO at_node_pairs
WITH mo AS (
  SELECT r.rule_no, r.exact, r.atb_type, c.pair_no, c.id, c.exec_order, c.parent_id, c.sibling_pos, c.param
  FROM at_op_map r
  JOIN at_members c ON c.side = 'm'
   AND CASE WHEN r.exact THEN c.type = r.atb_type AND NOT c.has_children ELSE instr(c.type, r.atb_type) > 0 END),
mo_bias AS (
  SELECT mo.rule_no, mo.pair_no, mo.exec_order,
         coalesce((SELECT s.id FROM at_members s
                   WHERE mo.exact AND mo.atb_type = 'LinearOperation' AND json_extract(mo.param, '$.hasBias') = 0
                     AND s.pair_no = mo.pair_no AND s.side = 'm' AND s.parent_id IS mo.parent_id
                     AND s.sibling_pos = (SELECT min(s2.sibling_pos) FROM at_members s2
                                          WHERE s2.pair_no = mo.pair_no AND s2.side = 'm'
                                            AND s2.parent_id IS mo.parent_id AND s2.sibling_pos > mo.sibling_pos)
                     AND s.type = 'ElewiseOperation' AND json_extract(s.param, '$.elewiseType') = 8
                   ORDER BY s.id LIMIT 1),
                  mo.id) AS id
  FROM mo),
mk AS (
  SELECT b.*, ROW_NUMBER() OVER (PARTITION BY rule_no, pair_no ORDER BY exec_order, id) AS k,
         count(*) OVER (PARTITION BY rule_no, pair_no) AS cnt
  FROM mo_bias b),
gk AS (
  SELECT r.rule_no, c.pair_no, c.id,
         ROW_NUMBER() OVER w AS k, count(*) OVER (PARTITION BY r.rule_no, c.pair_no) AS cnt
  FROM at_op_map r
  JOIN at_members c ON c.side = 'g'
   AND CASE WHEN r.exact THEN c.type = r.torch_type AND NOT c.has_children ELSE instr(c.type, r.torch_type) > 0 END
  WINDOW w AS (PARTITION BY r.rule_no, c.pair_no ORDER BY c.exec_order, c.id))
SELECT g.id, m.id, r.torch_loc, r.atb_loc, 'atb_torch:op_map'
FROM mk m
JOIN gk g ON g.rule_no = m.rule_no AND g.pair_no = m.pair_no AND g.k = m.k AND g.cnt = m.cnt
JOIN at_op_map r ON r.rule_no = m.rule_no
WHERE instr(',' || ?7 || ',', ',module,') > 0
ORDER BY m.pair_no, m.rule_no, m.k;

-- 4. Tensors of each op pair. '' = every output (torch: output*.pth but nested tuples; ATB: after/
-- outtensor*), else the named file. Both sides are numbered by tensor index; equal counts zip,
-- otherwise every golden faces every my tensor of the same element count (msit compares the
-- cartesian product and drops the shape mismatches).
CREATE TEMP TABLE at_tensors AS
SELECT np_no, side, id, numel, ROW_NUMBER() OVER w AS k, count(*) OVER (PARTITION BY np_no, side) AS cnt
FROM (
  SELECT np.rowid AS np_no, 'g' AS side, t.id, t.numel, t.io_index
  FROM at_node_pairs np
  JOIN tensors t ON t.op_node_id = np.g_id
  WHERE t.blob_key IS NOT NULL
    AND ((np.g_loc = '' AND t.io = 'out' AND t.io_subindex IS NULL)
      OR (np.g_loc = 'output' AND t.io = 'out' AND t.io_index = 0 AND t.io_subindex IS NULL)
      OR (np.g_loc GLOB 'output_[0-9]*' AND t.io = 'out' AND t.io_subindex IS NULL
          AND t.io_index = CAST(substr(np.g_loc, 8) AS INTEGER))
      OR (np.g_loc GLOB 'input_[0-9]*' AND t.io = 'in' AND t.io_index = CAST(substr(np.g_loc, 7) AS INTEGER)))
  UNION ALL
  SELECT np.rowid, 'm', t.id, t.numel, t.io_index
  FROM at_node_pairs np
  JOIN tensors t ON t.op_node_id = np.m_id
  WHERE t.blob_key IS NOT NULL
    AND ((np.m_loc = '' AND t.io = 'out' AND t.phase IS NOT 'before')
      OR (np.m_loc GLOB 'outtensor[0-9]*' AND t.io = 'out' AND t.phase IS NOT 'before'
          AND t.io_index = CAST(substr(np.m_loc, 10) AS INTEGER))
      OR (np.m_loc GLOB 'intensor[0-9]*' AND t.io = 'in' AND t.io_index = CAST(substr(np.m_loc, 9) AS INTEGER))))
WINDOW w AS (PARTITION BY np_no, side ORDER BY io_index, id);
CREATE INDEX temp.at_tensors_np ON at_tensors (np_no, side, k);

-- A tensor pair reached by two rules keeps the first rule (layer before module, table order).
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, g_tensor, m_tensor, token_id, rule, 0 FROM (
  SELECT g.id AS g_tensor, m.id AS m_tensor, CAST(mo.token AS TEXT) AS token_id, np.rule AS rule,
         ROW_NUMBER() OVER (PARTITION BY g.id, m.id ORDER BY np.rowid) AS dup
  FROM at_tensors g
  JOIN at_node_pairs np ON np.rowid = g.np_no
  JOIN op_nodes mo ON mo.id = np.m_id
  JOIN at_tensors m ON m.np_no = g.np_no AND m.side = 'm'
   AND CASE WHEN m.cnt = g.cnt THEN m.k = g.k ELSE m.numel IS g.numel END
  WHERE g.side = 'g')
WHERE dup = 1;

DROP TABLE temp.at_tensors;
DROP TABLE temp.at_node_pairs;
DROP TABLE temp.at_members;
DROP TABLE temp.at_layer_pairs;
DROP TABLE temp.at_layers;
DROP TABLE temp.at_layer_type;
DROP TABLE temp.at_child_types;
DROP TABLE temp.at_nodes;
