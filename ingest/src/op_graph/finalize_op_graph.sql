-- Last set-based steps of building a run's op graph (docs/schema.md, "Op graph"), after the
-- builder has linked parents and written order keys. ?1 = run id. Every statement is a join on an
-- index or a single pass with a window, so the cost grows as n log n in the number of nodes.

-- Loose files and weights keep the walk order.
UPDATE op_nodes SET order_key = printf('%012d', id)
WHERE run_id = ?1 AND order_key IS NULL;

-- ATB nodes take type and param from the process's topology; a model JSON wins over a layer JSON.
UPDATE op_nodes SET graph_op_id = g.id,
                    type = coalesce(g.op_type, op_nodes.type),
                    param = coalesce(op_nodes.param, g.param)
FROM (SELECT id, pid, id_path, op_type, param, min(graph_index) AS best
      FROM graph_ops WHERE run_id = ?1 GROUP BY pid, id_path) AS g,
     run_ranks AS rr
WHERE op_nodes.run_id = ?1 AND op_nodes.kind = 'op'
  AND rr.run_id = ?1 AND rr.rank_key = op_nodes.rank_key
  AND g.pid IS rr.pid AND g.id_path = op_nodes.id_path;

-- Logical tokens: a numeric folder is its token ...
UPDATE op_nodes SET token = CAST(folder AS INTEGER)
WHERE run_id = ?1 AND folder <> '' AND folder NOT GLOB '*[^0-9]*';

-- ... except on ranks whose process wrote a prefill and a decode graph: there folder 0 was the
-- warm-up round, and folder 1 holds token 0 for ops of the prefill graph and token 1 for the rest.
UPDATE op_nodes SET warmup = 1, token = NULL
WHERE run_id = ?1 AND folder = '0'
  AND rank_key IN (SELECT rank_key FROM run_ranks WHERE run_id = ?1 AND warmup_remap = 1);

UPDATE op_nodes SET token = CASE WHEN EXISTS (
    SELECT 1 FROM graph_ops g JOIN run_ranks rr ON rr.run_id = ?1 AND rr.rank_key = op_nodes.rank_key
    WHERE g.run_id = ?1 AND g.pid IS rr.pid AND g.graph_index = 0
      AND g.id_path = substr(op_nodes.id_path, 1, instr(op_nodes.id_path || '_', '_') - 1))
  THEN 0 ELSE 1 END
WHERE run_id = ?1 AND folder = '1'
  AND rank_key IN (SELECT rank_key FROM run_ranks WHERE run_id = ?1 AND warmup_remap = 1);

-- Matching compares ATB op types after msit's quant -> float normalisation of the directory name.
UPDATE op_nodes SET norm_type = coalesce((SELECT to_type FROM op_type_map WHERE from_type = op_nodes.name),
                                         op_nodes.name)
WHERE run_id = ?1 AND kind = 'op';
UPDATE op_nodes SET norm_type = type WHERE run_id = ?1 AND kind <> 'op';

-- Execution order within a rank's token folder: outputs exist in order_key order.
UPDATE op_nodes SET exec_order = x.rn
FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY rank_key, folder ORDER BY order_key, id) - 1 AS rn
      FROM op_nodes WHERE run_id = ?1) AS x
WHERE op_nodes.id = x.id;
