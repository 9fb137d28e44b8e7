-- Same graph run twice (ATB vs ATB, torch vs torch): pair tensors at the same token, device,
-- op id path / module name, in/out, index and before/after. Op types are compared after the
-- quant -> float normalisation of compare.md §4.3.3 rule 3, so a float and a quantised build of
-- the same graph pair up. ?1 comparison, ?2 golden run, ?3 my run, ?4 include inputs (0/1),
-- ?5 token list ('0,1,5') or NULL for all.
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
SELECT ?1, g.id, m.id, CAST(m.token AS TEXT), 'path', 0
FROM tensors m
JOIN tensors g
  ON g.run_id = ?2
 AND g.op_path = m.op_path
 AND g.token IS m.token
 AND g.device_id IS m.device_id
 AND g.io IS m.io
 AND g.io_index IS m.io_index
 AND g.io_subindex IS m.io_subindex
 AND g.phase IS m.phase
 AND (g.io IS NOT NULL OR g.io_name IS m.io_name)
 AND (CASE g.op_type WHEN 'LinearQuantOperation' THEN 'LinearOperation'
                     WHEN 'LinearDequantOnly' THEN 'LinearNoQuant'
                     WHEN 'LinearRowParallelNoAdd' THEN 'LinearRowParallelAndAdd' ELSE g.op_type END)
  IS (CASE m.op_type WHEN 'LinearQuantOperation' THEN 'LinearOperation'
                     WHEN 'LinearDequantOnly' THEN 'LinearNoQuant'
                     WHEN 'LinearRowParallelNoAdd' THEN 'LinearRowParallelAndAdd' ELSE m.op_type END)
WHERE m.run_id = ?3
  AND m.blob_key IS NOT NULL AND g.blob_key IS NOT NULL
  AND (m.io IS NULL OR m.io IN ('out', 'weight') OR (?4 = 1 AND m.io = 'in'))
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || m.token || ',') > 0)
