-- Manual data_id pairs from metadata.json (docs/compare.md): msit dump_data writes one entry
-- naming both files; aclcmp writes one metadata.json per side, joined on data_id and token.
-- Paths recorded at dump time are matched to stored files by their path below the run root, so
-- dumps that moved since still pair. ?1 comparison, ?2 golden run, ?3 my run.
WITH lp (data_id, token_id, golden_path, my_path) AS (
  SELECT data_id, token_id, golden_path, my_path FROM labels
  WHERE run_id = ?2 AND golden_path IS NOT NULL AND my_path IS NOT NULL
  UNION ALL
  SELECT lg.data_id, lg.token_id, lg.golden_path, lm.my_path
  FROM labels lg
  JOIN labels lm ON lm.run_id = ?3 AND lm.side = 'acl' AND lm.data_id = lg.data_id AND lm.token_id IS lg.token_id
  WHERE lg.run_id = ?2 AND lg.side = 'golden'
)
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, data_id, rule, seq)
SELECT ?1, g.id, m.id, lp.token_id, lp.data_id, 'data_id', 0
FROM lp
JOIN files gf ON gf.run_id = ?2
 AND (lp.golden_path = gf.rel_path OR substr(lp.golden_path, -length(gf.rel_path) - 1) = '/' || gf.rel_path)
JOIN tensors g ON g.file_id = gf.id AND g.blob_key IS NOT NULL
JOIN files mf ON mf.run_id = ?3
 AND (lp.my_path = mf.rel_path OR substr(lp.my_path, -length(mf.rel_path) - 1) = '/' || mf.rel_path)
JOIN tensors m ON m.file_id = mf.id AND m.blob_key IS NOT NULL
