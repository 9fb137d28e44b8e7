-- aitdb schema version 5: report paths for every tree flavour. A run's source_root is the file
-- itself for a one-file run and the dump root otherwise (ATB, torch, dump_data, GE, FX trees, loose
-- files), so a tensor's path is the root joined with its file's relative path unless the run is a
-- single file.

CREATE TABLE single_file_flavours (flavour TEXT PRIMARY KEY);
INSERT INTO single_file_flavours VALUES ('atb_bin'), ('npy'), ('pth'), ('safetensors'), ('legacy_torch');

DROP VIEW report;
CREATE VIEW report AS
SELECT
  p.comparison_id                                   AS comparison_id,
  p.seq                                             AS seq,
  coalesce(p.token_id, '')                          AS token_id,
  coalesce(p.data_id, CAST(p.seq AS TEXT))          AS data_id,
  CASE WHEN gr.flavour IN (SELECT flavour FROM single_file_flavours) OR gf.rel_path IS NULL
       THEN gr.source_root ELSE gr.source_root || '/' || gf.rel_path END AS golden_data_path,
  coalesce(g.op_type, '')                           AS golden_op_type,
  'torch.' || g.dtype                               AS golden_dtype,
  replace(g.shape, ',', ', ')                       AS golden_shape,
  CASE WHEN g.numel > 0 AND coalesce(g.nan_count, 0) = 0 THEN g.max END AS golden_max_value,
  CASE WHEN g.numel > 0 AND coalesce(g.nan_count, 0) = 0 THEN g.min END AS golden_min_value,
  CASE WHEN g.numel > 0 AND coalesce(g.nan_count, 0) + coalesce(g.inf_count, 0) = 0
       THEN g.mean END AS golden_mean_value,
  CASE WHEN mr.flavour IN (SELECT flavour FROM single_file_flavours) OR mf.rel_path IS NULL
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
