-- aitdb schema version 2: comparisons of two runs, their tensor pairs and metric results.

-- Manual pairing labels from metadata.json files (docs/compare.md, docs/formats.md).
CREATE TABLE labels (
  id          INTEGER PRIMARY KEY,
  run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  file_id     INTEGER REFERENCES files(id) ON DELETE CASCADE,
  data_id     TEXT    NOT NULL,
  token_id    TEXT,
  side        TEXT,                 -- golden | my | acl | NULL when one entry names both
  golden_path TEXT,                 -- as written in metadata.json
  my_path     TEXT
);
CREATE INDEX labels_run ON labels (run_id, data_id);

CREATE TABLE comparisons (
  id            INTEGER PRIMARY KEY,
  golden_run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  my_run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  matchers      TEXT    NOT NULL,   -- JSON array of matcher names used
  options       TEXT    NOT NULL,   -- JSON: metrics, tokens, cosine_threshold, ...
  started_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  finished_at   TEXT,
  pair_count    INTEGER,
  failed_count  INTEGER
);

CREATE TABLE pairs (
  id               INTEGER PRIMARY KEY,
  comparison_id    INTEGER NOT NULL REFERENCES comparisons(id) ON DELETE CASCADE,
  golden_tensor_id INTEGER NOT NULL REFERENCES tensors(id) ON DELETE CASCADE,
  my_tensor_id     INTEGER NOT NULL REFERENCES tensors(id) ON DELETE CASCADE,
  token_id         TEXT,
  data_id          TEXT,
  rule             TEXT    NOT NULL,  -- matcher that produced the pair
  seq              INTEGER NOT NULL   -- my-side execution order within the comparison
);
CREATE INDEX pairs_comparison ON pairs (comparison_id, seq);

CREATE TABLE results (
  pair_id                     INTEGER PRIMARY KEY REFERENCES pairs(id) ON DELETE CASCADE,
  cosine_similarity           REAL,
  max_relative_error          REAL,
  mean_relative_error         REAL,
  max_absolute_error          REAL,
  mean_absolute_error         REAL,
  kl_divergence               REAL,
  relative_euclidean_distance REAL,
  euc_dist                    REAL,   -- msprobe set (--metrics msprobe|all)
  msprobe_cosine              REAL,
  one_thousandth_err_ratio    REAL,
  five_thousandths_err_ratio  REAL,
  accuracy_reached            TEXT,
  cmp_fail_reason             TEXT    NOT NULL DEFAULT ''
);

-- The 24 columns of msit's compare report (docs/compare.md), one row per pair, report order.
-- msit's max/min/mean come from torch on the whole tensor: NaN anywhere makes all three NaN
-- (written empty) and inf makes the mean non-finite; stored statistics skip such values, so
-- they are blanked here (an all-+inf mean that torch would print as inf is written empty).
CREATE VIEW report AS
SELECT
  p.comparison_id                                   AS comparison_id,
  p.seq                                             AS seq,
  coalesce(p.token_id, '')                          AS token_id,
  coalesce(p.data_id, CAST(p.seq AS TEXT))          AS data_id,
  CASE WHEN gr.source_root = gf.rel_path OR gr.flavour NOT IN ('atb_tree', 'torch_tree', 'files')
       THEN gr.source_root ELSE gr.source_root || '/' || gf.rel_path END AS golden_data_path,
  coalesce(g.op_type, '')                           AS golden_op_type,
  'torch.' || g.dtype                               AS golden_dtype,
  replace(g.shape, ',', ', ')                       AS golden_shape,
  CASE WHEN g.numel > 0 AND coalesce(g.nan_count, 0) = 0 THEN g.max END AS golden_max_value,
  CASE WHEN g.numel > 0 AND coalesce(g.nan_count, 0) = 0 THEN g.min END AS golden_min_value,
  CASE WHEN g.numel > 0 AND coalesce(g.nan_count, 0) + coalesce(g.inf_count, 0) = 0
       THEN g.mean END AS golden_mean_value,
  CASE WHEN mr.source_root = mf.rel_path OR mr.flavour NOT IN ('atb_tree', 'torch_tree', 'files')
       THEN mr.source_root ELSE mr.source_root || '/' || mf.rel_path END AS my_data_path,
  coalesce(m.op_type, '')                           AS my_op_type,
  'torch.' || m.dtype                               AS my_dtype,
  replace(m.shape, ',', ', ')                       AS my_shape,
  CASE WHEN m.numel > 0 AND coalesce(m.nan_count, 0) = 0 THEN m.max END AS my_max_value,
  CASE WHEN m.numel > 0 AND coalesce(m.nan_count, 0) = 0 THEN m.min END AS my_min_value,
  CASE WHEN m.numel > 0 AND coalesce(m.nan_count, 0) + coalesce(m.inf_count, 0) = 0
       THEN m.mean END AS my_mean_value,
  r.cosine_similarity, r.max_relative_error, r.mean_relative_error, r.max_absolute_error,
  r.mean_absolute_error, r.kl_divergence, r.relative_euclidean_distance,
  coalesce(r.cmp_fail_reason, '')                   AS cmp_fail_reason,
  p.id AS pair_id, p.rule AS rule, g.id AS golden_tensor_id, m.id AS my_tensor_id
FROM pairs p
JOIN tensors g ON g.id = p.golden_tensor_id
JOIN tensors m ON m.id = p.my_tensor_id
JOIN runs gr ON gr.id = g.run_id
JOIN runs mr ON mr.id = m.run_id
LEFT JOIN files gf ON gf.id = g.file_id
LEFT JOIN files mf ON mf.id = m.file_id
LEFT JOIN results r ON r.pair_id = p.id;

-- The first pair, in my-side execution order, whose cosine is below the comparison's threshold
-- (options.cosine_threshold, default 0.99) or that failed.
CREATE VIEW first_divergence AS
SELECT rp.*
FROM report rp
JOIN comparisons c ON c.id = rp.comparison_id
WHERE rp.seq = (
  SELECT min(p2.seq) FROM pairs p2 JOIN results r2 ON r2.pair_id = p2.id
  WHERE p2.comparison_id = c.id
    AND (r2.cmp_fail_reason <> ''
         OR r2.cosine_similarity < coalesce(json_extract(c.options, '$.cosine_threshold'), 0.99)));
