-- Two single files (.bin, .npy, .pth, .safetensors in any combination): one tensor each pairs
-- with the other; multi-tensor files pair by tensor name. ?1 comparison, ?2 golden, ?3 my.
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, data_id, rule, seq)
SELECT ?1, g.id, m.id, '0', coalesce(m.io_name, NULL), 'files', 0
FROM tensors g
JOIN tensors m ON m.run_id = ?3
WHERE g.run_id = ?2
  AND g.blob_key IS NOT NULL AND m.blob_key IS NOT NULL
  AND (((SELECT count(*) FROM tensors WHERE run_id = ?2) = 1 AND (SELECT count(*) FROM tensors WHERE run_id = ?3) = 1)
       OR g.io_name = m.io_name)
