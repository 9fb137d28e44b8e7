-- Same graph run twice (ATB vs ATB: float vs quant, other batch size, dtype or version; torch vs
-- torch), staged over the op graph built at ingest (docs/compare.md, "path"). Parameters: ?1
-- comparison, ?2 golden run, ?3 my run, ?4 include inputs (0/1), ?5 my-side token list ('0,1,5')
-- or NULL for all. temp.rank_pairs (rank_pairs.sql) says which ranks face each other.
--
-- Op pairs come from two rules, each op paired once:
--   * msit's rule 3: from the top level down, children of paired ops are grouped by type after the
--     quant -> float normalisation (norm_type); where both sides have the same number of a type
--     they pair in id order, so a quantised graph that inserts extra ops (shifting ids) still pairs
--     its Linear/Norm/... ops;
--   * ops rule 3 leaves alone pair by the same op id path / module name / file key, and rule 3
--     continues below them.
-- Every step is an indexed join or one window pass: n log n in the number of nodes and tensors.

DROP TABLE IF EXISTS temp.gn;
DROP TABLE IF EXISTS temp.mn;
DROP TABLE IF EXISTS temp.node_pairs;

-- cnt counts the whole sibling group (a window with ORDER BY would give a running count).
CREATE TEMP TABLE gn AS
SELECT n.id, n.rank_key, n.token, n.parent_id, n.id_path, n.norm_type,
       ROW_NUMBER() OVER w AS rnk, count(*) OVER (PARTITION BY n.rank_key, n.folder, n.token, n.parent_id, n.norm_type) AS cnt
FROM op_nodes n
WHERE n.run_id = ?2 AND n.warmup = 0
WINDOW w AS (PARTITION BY n.rank_key, n.folder, n.token, n.parent_id, n.norm_type ORDER BY n.sibling_pos, n.id_path);

CREATE TEMP TABLE mn AS
SELECT n.id, n.rank_key, n.token, n.parent_id, n.id_path, n.norm_type,
       ROW_NUMBER() OVER w AS rnk, count(*) OVER (PARTITION BY n.rank_key, n.folder, n.token, n.parent_id, n.norm_type) AS cnt
FROM op_nodes n
WHERE n.run_id = ?3 AND n.warmup = 0
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || n.token || ',') > 0)
WINDOW w AS (PARTITION BY n.rank_key, n.folder, n.token, n.parent_id, n.norm_type ORDER BY n.sibling_pos, n.id_path);

CREATE INDEX temp.gn_parent ON gn (parent_id);
CREATE INDEX temp.mn_path ON mn (rank_key, token, id_path);
CREATE INDEX temp.mn_level ON mn (parent_id, norm_type, rnk);
CREATE INDEX temp.mn_root ON mn (rank_key, token, norm_type, rnk) WHERE parent_id IS NULL;

CREATE TEMP TABLE node_pairs (g_id INTEGER NOT NULL, m_id INTEGER NOT NULL, PRIMARY KEY (g_id, m_id)) WITHOUT ROWID;

CREATE INDEX temp.node_pairs_m ON node_pairs (m_id);

-- Rule 3: top-level ops by type and count, then level by level below each paired op.
INSERT OR IGNORE INTO node_pairs
WITH RECURSIVE matched (g_id, m_id) AS (
  SELECT g.id, m.id
  FROM gn g
  JOIN rank_pairs rp ON rp.g_rank = g.rank_key
  JOIN mn m ON m.parent_id IS NULL AND m.rank_key = rp.m_rank AND m.token IS g.token
           AND m.norm_type = g.norm_type AND m.rnk = g.rnk
  WHERE g.parent_id IS NULL AND m.cnt = g.cnt
  UNION
  SELECT g.id, m.id
  FROM matched x
  JOIN gn g ON g.parent_id = x.g_id
  JOIN mn m ON m.parent_id = x.m_id AND m.norm_type = g.norm_type AND m.rnk = g.rnk
  WHERE m.cnt = g.cnt
)
SELECT g_id, m_id FROM matched;

-- Ops rule 3 left alone on both sides pair when they have the same key (id path, module name,
-- weight or file name) and compatible types: e.g. a top level whose type counts differ.
INSERT OR IGNORE INTO node_pairs
SELECT g.id, m.id
FROM gn g
JOIN rank_pairs rp ON rp.g_rank = g.rank_key
JOIN mn m ON m.rank_key = rp.m_rank AND m.token IS g.token AND m.id_path = g.id_path
WHERE (m.norm_type IS g.norm_type OR m.norm_type IS NULL OR g.norm_type IS NULL)
  AND NOT EXISTS (SELECT 1 FROM node_pairs x WHERE x.g_id = g.id)
  AND NOT EXISTS (SELECT 1 FROM node_pairs x WHERE x.m_id = m.id);

-- Below ops paired by key, rule 3 again for children still alone on both sides.
INSERT OR IGNORE INTO node_pairs
WITH RECURSIVE matched (g_id, m_id) AS (
  SELECT g_id, m_id FROM node_pairs
  UNION
  SELECT g.id, m.id
  FROM matched x
  JOIN gn g ON g.parent_id = x.g_id
  JOIN mn m ON m.parent_id = x.m_id AND m.norm_type = g.norm_type AND m.rnk = g.rnk
  WHERE m.cnt = g.cnt
)
SELECT g_id, m_id FROM matched
WHERE NOT EXISTS (SELECT 1 FROM node_pairs x WHERE x.g_id = matched.g_id)
  AND NOT EXISTS (SELECT 1 FROM node_pairs x WHERE x.m_id = matched.m_id);

-- Tensors of paired ops: same in/out, index and before/after. Outputs are compared as they were
-- after the op ran: a before/outtensor (ATB --save-time 0 or 2) is the stale buffer, never an output.
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, g.id, m.id, CAST(mo.token AS TEXT), 'path', 0
FROM node_pairs np
JOIN op_nodes mo ON mo.id = np.m_id
JOIN tensors m ON m.op_node_id = np.m_id
JOIN tensors g ON g.op_node_id = np.g_id AND g.io IS m.io AND g.io_index IS m.io_index
WHERE m.blob_key IS NOT NULL AND g.blob_key IS NOT NULL
  AND g.io_subindex IS m.io_subindex
  AND g.phase IS m.phase
  AND (g.io IS NOT NULL OR g.io_name IS m.io_name)
  AND (m.io IS NULL OR m.io = 'weight' OR (m.io = 'out' AND m.phase IS NOT 'before') OR (?4 = 1 AND m.io = 'in'));

DROP TABLE temp.node_pairs;
DROP TABLE temp.gn;
DROP TABLE temp.mn;
