-- aclcmp's weight-MD5 pairing (docs/compare.md, "weight_md5"): golden = PyTorch dump keyed by the
-- MD5 of each module's bias (else weight) bytes (metadata.json {token: {md5: [npy path]}}, read
-- into labels as data_id = md5, token_id = token); my = ATB dump whose input tensors are MD5
-- placeholders (tensors.md5) or real bytes (blobs.md5, hashed on demand before this runs).
-- The first my op (rank order, then execution order) of a token with an input of that MD5
-- implements the module: its after/outtensor0 pairs with the module's output.
-- ?1 comparison, ?2 golden run, ?3 my run, ?5 my-side token list or NULL.

DROP TABLE IF EXISTS temp.wm_golden;
DROP TABLE IF EXISTS temp.wm_my;

-- Golden: each label's npy, found by the recorded path's tails (indexed on files (run_id, rel_path)),
-- so a dump that moved since still pairs.
CREATE TEMP TABLE wm_golden AS
WITH RECURSIVE tails (label_id, tail) AS (
  SELECT id, golden_path FROM labels
  WHERE run_id = ?2 AND golden_path IS NOT NULL AND length(data_id) = 32 AND data_id NOT GLOB '*[^0-9a-f]*'
  UNION ALL
  SELECT label_id, substr(tail, instr(tail, '/') + 1) FROM tails WHERE instr(tail, '/') > 0
)
SELECT l.data_id AS md5, CAST(l.token_id AS INTEGER) AS token, l.token_id, min(g.id) AS tensor_id
FROM tails x
JOIN labels l ON l.id = x.label_id
JOIN files f ON f.run_id = ?2 AND f.rel_path = x.tail
JOIN tensors g ON g.file_id = f.id AND g.blob_key IS NOT NULL
WHERE l.token_id NOT GLOB '*[^0-9]*'
GROUP BY l.data_id, l.token_id;

-- My: per token and MD5, the first op holding an input of that MD5.
CREATE TEMP TABLE wm_my AS
SELECT token, md5, op_node_id FROM (
  SELECT n.token, coalesce(t.md5, b.md5) AS md5, t.op_node_id,
         ROW_NUMBER() OVER (PARTITION BY n.token, coalesce(t.md5, b.md5)
                            ORDER BY rr.rank_index, n.exec_order, n.id) AS rn
  FROM tensors t
  JOIN op_nodes n ON n.id = t.op_node_id
  JOIN run_ranks rr ON rr.run_id = ?3 AND rr.rank_key = n.rank_key
  LEFT JOIN blobs b ON b.key = t.blob_key
  WHERE t.run_id = ?3 AND t.io = 'in' AND n.warmup = 0 AND n.token IS NOT NULL
    AND coalesce(t.md5, b.md5) IS NOT NULL
    AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || n.token || ',') > 0))
WHERE rn = 1;
CREATE INDEX temp.wm_my_key ON wm_my (token, md5);

INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, data_id, rule, seq)
SELECT ?1, g.tensor_id, m.id, g.token_id, g.md5, 'weight_md5', 0
FROM wm_golden g
JOIN wm_my w ON w.token = g.token AND w.md5 = g.md5
JOIN tensors m ON m.op_node_id = w.op_node_id AND m.io = 'out' AND m.io_index = 0
 AND m.phase IS NOT 'before' AND m.blob_key IS NOT NULL;

DROP TABLE temp.wm_my;
DROP TABLE temp.wm_golden;
