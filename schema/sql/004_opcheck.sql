-- aitdb schema version 4: opcheck (an op's outputs recomputed on the CPU from its own dumped
-- inputs, docs/opcheck.md), errcheck (overflow findings), and own vs inherited error.

-- One row per checked output tensor of an op (msit's report row), or one row per op when no
-- output could be checked (no kernel, kernel refused the case, no dumped outputs).
CREATE TABLE opcheck_results (
  id                  INTEGER PRIMARY KEY,
  run_id              INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  op_node_id          INTEGER NOT NULL REFERENCES op_nodes(id) ON DELETE CASCADE,
  op_id               TEXT    NOT NULL,  -- ATB id path '2_0_3'
  op_name             TEXT    NOT NULL,  -- operation type as checked, 'LinearOperation'
  op_param            TEXT    NOT NULL,  -- op_param.json ('{}' when absent)
  tensor_path         TEXT,              -- the op's directory under the run root
  out_tensor_id       INTEGER,           -- NULL on the per-op row
  status              TEXT    NOT NULL,  -- pass | failed | not_supported
  precision_standard  TEXT,
  rel_precision_rate  REAL,              -- percent
  max_rel_error       REAL,
  abs_precision_rate  REAL,              -- requested metrics only
  max_abs_error       REAL,
  cosine_similarity   REAL,
  kl_divergence       REAL,
  fail_reason         TEXT    NOT NULL DEFAULT '',
  precision_mode      TEXT    NOT NULL DEFAULT 'keep',
  created_at          TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX opcheck_results_node ON opcheck_results (op_node_id);
CREATE INDEX opcheck_results_run ON opcheck_results (run_id, op_id);

-- The verdict per op: failed when any output failed, pass when every output passed,
-- not_supported when aitdb has no kernel for it.
CREATE VIEW opcheck_verdicts AS
SELECT run_id, op_node_id, op_id, op_name,
       CASE WHEN sum(status = 'failed') > 0 THEN 'failed'
            WHEN sum(status = 'pass') = count(*) THEN 'pass'
            ELSE 'not_supported' END AS verdict,
       group_concat(nullif(fail_reason, ''), ', ') AS fail_reason
FROM opcheck_results GROUP BY op_node_id;

-- Overflow findings of `aitdb errcheck` (source 'scan': one row per tensor with NaN, inf or
-- values saturated at its dtype's largest finite value) and of msit's probe (source
-- 'msit_overflow_res': one row per line of msit_overflow_res_{pid}.txt).
CREATE TABLE errcheck_results (
  id               INTEGER PRIMARY KEY,
  run_id           INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  source           TEXT    NOT NULL,     -- scan | msit_overflow_res
  tensor_id        INTEGER REFERENCES tensors(id) ON DELETE CASCADE,
  op_node_id       INTEGER REFERENCES op_nodes(id) ON DELETE SET NULL,
  op_name          TEXT,                 -- msit: '{op}:{kernel}' as the probe wrote it
  nan_count        INTEGER NOT NULL DEFAULT 0,
  inf_count        INTEGER NOT NULL DEFAULT 0,
  saturated_count  INTEGER NOT NULL DEFAULT 0,
  first_overflow   INTEGER NOT NULL DEFAULT 0,  -- 1: output of the first op (per rank, execution
                                                -- order) that overflowed from finite inputs
  created_at       TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX errcheck_results_run ON errcheck_results (run_id, source);

-- Each diverged pair of a comparison (cosine below its threshold) with the opcheck verdict of
-- my side's op: 'own' when that op fails opcheck on its own dumped inputs, 'inherited' when it
-- passes (its inputs had already diverged), NULL when it was not checked or has no kernel.
CREATE VIEW divergence AS
SELECT rp.comparison_id, rp.seq, rp.pair_id, rp.token_id, rp.golden_tensor_id, rp.my_tensor_id,
       n.id AS my_op_node_id, n.id_path AS my_op_id, coalesce(n.type, n.name) AS my_op_type,
       rp.cosine_similarity, v.verdict AS opcheck_verdict,
       CASE v.verdict WHEN 'failed' THEN 'own' WHEN 'pass' THEN 'inherited' END AS error_origin,
       v.fail_reason AS opcheck_fail_reason
FROM report rp
JOIN comparisons c ON c.id = rp.comparison_id
JOIN tensors m ON m.id = rp.my_tensor_id
LEFT JOIN op_nodes n ON n.id = m.op_node_id
LEFT JOIN opcheck_verdicts v ON v.op_node_id = n.id
WHERE rp.cmp_fail_reason = ''
  AND rp.cosine_similarity < coalesce(json_extract(c.options, '$.cosine_threshold'), 0.99);

-- errcheck findings with where they were found, in execution order per rank.
CREATE VIEW errcheck_report AS
SELECT e.run_id, e.source, coalesce(n.rank_key, t.rank_key, '') AS rank_key, n.token, n.exec_order,
       coalesce(n.id_path, t.op_path, '') AS op_id, coalesce(e.op_name, n.type, n.name, '') AS op_type,
       t.phase, t.io, t.io_index, t.dtype, f.rel_path AS tensor_path,
       e.nan_count, e.inf_count, e.saturated_count, e.first_overflow, e.tensor_id
FROM errcheck_results e
LEFT JOIN tensors t ON t.id = e.tensor_id
LEFT JOIN op_nodes n ON n.id = e.op_node_id
LEFT JOIN files f ON f.id = t.file_id;
