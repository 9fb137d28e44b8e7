-- aitdb schema version 3: the op graph. Built once at ingest so matchers join indexed rows instead
-- of re-deriving structure from path strings (docs/schema.md, "Op graph").

-- One rank (process) of a run: '{device}_{pid}' folder of an ATB or torch tree, '' otherwise.
CREATE TABLE run_ranks (
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rank_key     TEXT    NOT NULL,
  rank_index   INTEGER NOT NULL,           -- 0.. in (device id, pid) order: ranks of two runs pair by it
  device_kind  TEXT,                       -- npu | cuda | cpu (torch folders); NULL when the folder gives only an id
  device_id    INTEGER,
  pid          INTEGER,
  model_graphs INTEGER NOT NULL DEFAULT 0, -- ATB model topology JSONs written by this process
  warmup_remap INTEGER NOT NULL DEFAULT 0, -- 1: folder 0 was a warm-up, folder 1 held tokens 0 and 1
  PRIMARY KEY (run_id, rank_key)
);

-- Static topology of an ATB process (model/layer JSON): one row per graph node, any depth.
CREATE TABLE graph_ops (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  pid         INTEGER,
  graph       TEXT    NOT NULL,            -- rel path of the topology JSON it came from
  graph_index INTEGER NOT NULL,            -- 0 = prefill (first by start id), 1 = decode, ...
  id_path     TEXT    NOT NULL,            -- '3_4_0'
  op_name     TEXT    NOT NULL,            -- 'LinearOperation_3_4_0'
  op_type     TEXT,
  param       TEXT,                        -- JSON
  in_tensors  TEXT,                        -- JSON array of tensor names
  out_tensors TEXT,
  UNIQUE (run_id, pid, graph, id_path)
);
CREATE INDEX graph_ops_path ON graph_ops (run_id, pid, id_path);

-- Dataflow: the producer of a tensor name feeds every consumer of the same name in one graph.
CREATE TABLE op_edges (
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  src_op      INTEGER NOT NULL REFERENCES graph_ops(id) ON DELETE CASCADE,
  dst_op      INTEGER NOT NULL REFERENCES graph_ops(id) ON DELETE CASCADE,
  tensor_name TEXT    NOT NULL
);
CREATE INDEX op_edges_src ON op_edges (src_op);
CREATE INDEX op_edges_dst ON op_edges (dst_op);

-- One executed op (ATB op directory, torch module, weight, loose file) per run x rank x token folder.
CREATE TABLE op_nodes (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  kind        TEXT    NOT NULL,            -- op | module | weight | file
  rank_key    TEXT    NOT NULL DEFAULT '',
  folder      TEXT    NOT NULL DEFAULT '', -- token folder on disk ('' when the path has none)
  token       INTEGER,                     -- logical token (after the warm-up remap); NULL: warm-up or none
  warmup      INTEGER NOT NULL DEFAULT 0,
  id_path     TEXT    NOT NULL,            -- ATB '2_0_3', torch module name, weight name, file path
  parent_id   INTEGER REFERENCES op_nodes(id) ON DELETE SET NULL,
  depth       INTEGER NOT NULL DEFAULT 1,
  sibling_pos INTEGER,                     -- ATB node id in its parent graph; torch position in model_tree.json
  names       TEXT,                        -- ATB: JSON array of directory op names, top down
  name        TEXT,                        -- ATB directory op name / topology opName; torch module name
  type        TEXT,                        -- ATB op type (topology opType, else directory name); torch class
  norm_type   TEXT,                        -- type after the quant -> float normalisation (op_type_map)
  graph_op_id INTEGER REFERENCES graph_ops(id) ON DELETE SET NULL,
  param       TEXT,                        -- op_param.json, else the topology param
  order_key   TEXT,                        -- sorts nodes so that outputs follow their children's
  exec_order  INTEGER,                     -- 0.. within (run, rank, folder), by order_key
  UNIQUE (run_id, rank_key, folder, id_path)
);
CREATE INDEX op_nodes_parent ON op_nodes (parent_id);
CREATE INDEX op_nodes_graph ON op_nodes (graph_op_id);

-- msit's quant -> float op type normalisation, as data.
CREATE TABLE op_type_map (
  from_type TEXT PRIMARY KEY,
  to_type   TEXT NOT NULL
);
INSERT INTO op_type_map VALUES
  ('LinearQuantOperation', 'LinearOperation'),
  ('LinearDequantOnly', 'LinearNoQuant'),
  ('LinearRowParallelNoAdd', 'LinearRowParallelAndAdd');

ALTER TABLE tensors ADD COLUMN op_node_id INTEGER REFERENCES op_nodes(id) ON DELETE SET NULL;
CREATE INDEX tensors_node ON tensors (op_node_id, io, io_index);

-- op_param.json now lives on its node.
DROP TABLE ops;

-- Unpaired tensors are found per side through these.
CREATE INDEX pairs_golden ON pairs (comparison_id, golden_tensor_id);
CREATE INDEX pairs_my ON pairs (comparison_id, my_tensor_id);

-- The first divergence is the earliest pair, in my-side execution order (token, op, rank), whose
-- metrics say it diverged: cosine below the comparison's threshold (options.cosine_threshold,
-- default 0.99). Failed pairs (shape mismatch, missing bytes) are in failed_pairs instead, and
-- pairs the report CSV leaves out (int8 facing another dtype) never stand in.
DROP VIEW first_divergence;
CREATE VIEW first_divergence AS
SELECT rp.*
FROM report rp
JOIN comparisons c ON c.id = rp.comparison_id
WHERE rp.seq = (
  SELECT min(p2.seq) FROM pairs p2
  JOIN results r2 ON r2.pair_id = p2.id
  JOIN tensors g2 ON g2.id = p2.golden_tensor_id
  JOIN tensors m2 ON m2.id = p2.my_tensor_id
  WHERE p2.comparison_id = c.id
    AND r2.cmp_fail_reason = ''
    AND (g2.dtype = 'int8') = (m2.dtype = 'int8')
    AND r2.cosine_similarity < coalesce(json_extract(c.options, '$.cosine_threshold'), 0.99));

CREATE VIEW failed_pairs AS
SELECT rp.* FROM report rp WHERE rp.cmp_fail_reason <> '';

-- Tensors of either run that the comparison's matchers left without a partner, among those it
-- would compare: with bytes, not a warm-up, outputs (inputs too when the comparison included
-- them), never a stale before/outtensor.
CREATE VIEW unpaired_tensors AS
SELECT c.id AS comparison_id, 'golden' AS side, t.id AS tensor_id, n.token, n.rank_key, n.id_path, t.io, t.io_index
FROM comparisons c
JOIN tensors t ON t.run_id = c.golden_run_id
LEFT JOIN op_nodes n ON n.id = t.op_node_id
WHERE t.blob_key IS NOT NULL AND coalesce(n.warmup, 0) = 0
  AND (t.io IS NOT 'in' OR coalesce(json_extract(c.options, '$.include_inputs'), 0))
  AND NOT (t.io IS 'out' AND t.phase IS 'before')
  AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.comparison_id = c.id AND p.golden_tensor_id = t.id)
UNION ALL
SELECT c.id, 'my', t.id, n.token, n.rank_key, n.id_path, t.io, t.io_index
FROM comparisons c
JOIN tensors t ON t.run_id = c.my_run_id
LEFT JOIN op_nodes n ON n.id = t.op_node_id
WHERE t.blob_key IS NOT NULL AND coalesce(n.warmup, 0) = 0
  AND (t.io IS NOT 'in' OR coalesce(json_extract(c.options, '$.include_inputs'), 0))
  AND NOT (t.io IS 'out' AND t.phase IS 'before')
  AND NOT EXISTS (SELECT 1 FROM pairs p WHERE p.comparison_id = c.id AND p.my_tensor_id = t.id);
