-- Same graph run twice (ATB vs ATB: float vs quant, other batch size, dtype or version; torch vs
-- torch). ?1 comparison, ?2 golden run, ?3 my run, ?4 include inputs (0/1), ?5 my-side token list
-- ('0,1,5') or NULL for all.
--
-- Op pairs come from two of msit's policies (compare.md §4.3.3), unioned:
--   * same op id path / module name, op types equal after the quant -> float normalisation;
--   * rule 3 (ATB): from the top level down, children of matched ops are grouped by normalised
--     type; where both sides have the same number of a type they pair in id order. A quantised
--     graph that inserts extra ops (shifting ids) still pairs its Linear/Norm/... ops.
-- Tokens follow msit's ATB remap (formats.md §2.4, compare.md §4.3.7): with more than one model
-- JSON (prefill + decode graphs), folder 0 is the warm-up (never compared), folder 1 holds token
-- 0 for ops of the prefill graph and token 1 for the decode graph, folder k >= 2 is token k.
INSERT INTO pairs (comparison_id, golden_tensor_id, my_tensor_id, token_id, rule, seq)
WITH RECURSIVE
  model_files AS (
    SELECT f.run_id, f.content,
           CAST(replace(json_extract(f.content, '$.nodes[0].opName'),
                        rtrim(json_extract(f.content, '$.nodes[0].opName'), '0123456789'), '') AS INTEGER) AS start
    FROM files f
    WHERE f.run_id IN (?2, ?3) AND f.rel_path GLOB 'model/*/*.json' AND json_valid(f.content)
  ),
  model_counts AS (
    SELECT run_id, count(*) AS n, min(start) AS prefill_start FROM model_files GROUP BY run_id
  ),
  prefill_ops AS (
    SELECT mf.run_id,
           CAST(replace(json_extract(j.value, '$.opName'),
                        rtrim(json_extract(j.value, '$.opName'), '0123456789'), '') AS INTEGER) AS op_id
    FROM model_files mf
    JOIN model_counts mc ON mc.run_id = mf.run_id AND mc.n > 1 AND mf.start = mc.prefill_start,
         json_each(mf.content, '$.nodes') AS j
  ),
  lt AS (  -- logical token of every tensor of both runs; NULL marks the warm-up folder
    SELECT t.id, t.run_id,
           CASE
             WHEN mc.n IS NULL OR mc.n < 2 OR t.token IS NULL OR t.op_names IS NULL THEN t.token
             WHEN t.token = 0 THEN NULL
             WHEN t.token = 1 THEN
               CASE WHEN EXISTS (SELECT 1 FROM prefill_ops po WHERE po.run_id = t.run_id
                                   AND po.op_id = CAST(substr(t.op_path, 1, instr(t.op_path || '_', '_') - 1) AS INTEGER))
                    THEN 0 ELSE 1 END
             ELSE t.token
           END AS token,
           coalesce(mc.n, 0) > 1 AND coalesce(t.token, -1) = 0 AS warmup
    FROM tensors t LEFT JOIN model_counts mc ON mc.run_id = t.run_id
    WHERE t.run_id IN (?2, ?3)
  ),
  -- Every op of the ATB trees (also ops that hold no tensor themselves) with its parent, id and
  -- normalised type, from the op id paths and names of the tensors.
  prefixes (run_id, token, device_id, path, rest, depth, names) AS (
    SELECT DISTINCT t.run_id, l.token, t.device_id,
           substr(t.op_path, 1, instr(t.op_path || '_', '_') - 1),
           substr(t.op_path, instr(t.op_path || '_', '_') + 1), 1, t.op_names
    FROM tensors t JOIN lt l ON l.id = t.id
    WHERE t.run_id IN (?2, ?3) AND t.op_names IS NOT NULL AND NOT l.warmup
    UNION
    SELECT run_id, token, device_id, path || '_' || substr(rest, 1, instr(rest || '_', '_') - 1),
           substr(rest, instr(rest || '_', '_') + 1), depth + 1, names
    FROM prefixes WHERE rest <> ''
  ),
  nodes AS (
    SELECT DISTINCT run_id, token, device_id, path,
           CASE WHEN depth = 1 THEN '' ELSE substr(path, 1, length(path) - length(replace(path, rtrim(path, '0123456789-'), '')) - 1) END AS parent,
           CAST(replace(path, rtrim(path, '0123456789-'), '') AS INTEGER) AS node_id,
           CASE json_extract(names, '$[' || (depth - 1) || ']')
             WHEN 'LinearQuantOperation' THEN 'LinearOperation'
             WHEN 'LinearDequantOnly' THEN 'LinearNoQuant'
             WHEN 'LinearRowParallelNoAdd' THEN 'LinearRowParallelAndAdd'
             ELSE json_extract(names, '$[' || (depth - 1) || ']') END AS ntype
    FROM prefixes
  ),
  ranked AS (
    SELECT *, ROW_NUMBER() OVER w AS rnk, count(*) OVER w AS cnt
    FROM nodes
    WINDOW w AS (PARTITION BY run_id, token, device_id, parent, ntype ORDER BY node_id)
  ),
  matched (token, device_id, gpath, mpath) AS (
    SELECT g.token, g.device_id, g.path, m.path
    FROM ranked g
    JOIN ranked m ON m.run_id = ?3 AND m.token IS g.token AND m.device_id IS g.device_id AND m.parent = ''
                 AND m.ntype IS g.ntype AND m.rnk = g.rnk AND m.cnt = g.cnt
    WHERE g.run_id = ?2 AND g.parent = ''
    UNION
    SELECT g.token, g.device_id, g.path, m.path
    FROM matched x
    JOIN ranked g ON g.run_id = ?2 AND g.token IS x.token AND g.device_id IS x.device_id AND g.parent = x.gpath
    JOIN ranked m ON m.run_id = ?3 AND m.token IS x.token AND m.device_id IS x.device_id AND m.parent = x.mpath
                 AND m.ntype IS g.ntype AND m.rnk = g.rnk AND m.cnt = g.cnt
  ),
  op_pairs (token, device_id, gpath, mpath) AS (
    SELECT token, device_id, gpath, mpath FROM matched
    UNION
    SELECT DISTINCT lm.token, m.device_id, m.op_path, m.op_path
    FROM tensors m JOIN lt lm ON lm.id = m.id
    WHERE m.run_id = ?3 AND NOT lm.warmup
  )
SELECT DISTINCT ?1, g.id, m.id, CAST(lm.token AS TEXT), 'path', 0
FROM op_pairs op
JOIN tensors m ON m.run_id = ?3 AND m.op_path = op.mpath AND m.device_id IS op.device_id
JOIN lt lm ON lm.id = m.id AND lm.token IS op.token AND NOT lm.warmup
JOIN tensors g ON g.run_id = ?2 AND g.op_path = op.gpath AND g.device_id IS m.device_id
JOIN lt lg ON lg.id = g.id AND lg.token IS lm.token AND NOT lg.warmup
WHERE m.blob_key IS NOT NULL AND g.blob_key IS NOT NULL
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
  AND (m.io IS NULL OR m.io IN ('out', 'weight') OR (?4 = 1 AND m.io = 'in'))
  AND (?5 IS NULL OR instr(',' || ?5 || ',', ',' || lm.token || ',') > 0)
