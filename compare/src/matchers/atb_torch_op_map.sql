-- The ATB -> torch mapping tables of the automatic ATB<->torch matcher, as data
-- (docs/compare.md, "atb_torch"). Loaded before atb_torch_matcher.sql; ?8 holds the user's
-- op_mapping_file.json entries as {key: [values]} (or NULL).

DROP TABLE IF EXISTS temp.at_module_map;
DROP TABLE IF EXISTS temp.at_special_map;
DROP TABLE IF EXISTS temp.at_custom_map;
DROP TABLE IF EXISTS temp.at_op_map;

-- Module level: direct children of a layer. An ATB child whose op name contains `my_key`
-- (case-sensitive) pairs with a torch child whose module name contains any `torch_part`.
CREATE TEMP TABLE at_module_map (my_key TEXT NOT NULL, torch_part TEXT NOT NULL, PRIMARY KEY (my_key, torch_part));
INSERT INTO at_module_map VALUES
  ('Attention', 'self_attn'), ('Attention', 'self_attention'), ('Attention', 'Attention'),
  ('Mlp', 'mlp'), ('Mlp', 'Mlp'),
  ('mlp', 'mlp'),
  ('self_attn', 'self_attn'),
  ('self_attention', 'self_attention');

-- Layer level: ops outside the repeated layers (embedding, final norm, lm head), any depth.
-- Lower-cased ATB op names (topology opName, else directory name) matched by GLOB against lower-cased
-- torch module names; a `*_not` pattern excludes. Alternatives of one rule share `rule_no`.
CREATE TEMP TABLE at_special_map (
  rule_no INTEGER NOT NULL, my_glob TEXT NOT NULL, my_not TEXT, torch_glob TEXT NOT NULL, torch_not TEXT);
INSERT INTO at_special_map VALUES
  (1, '*wordembedding*', NULL, '*embed_tokens*', '*word_embeddings_layernorm*'),
  (1, '*wordembedding*', NULL, '*word_embeddings*', '*word_embeddings_layernorm*'),
  -- msit's ^RmsNormOperation_\d+$: a top-level op name has one '_<id>' suffix, inner ones more.
  (2, 'rmsnormoperation_[0-9]*', '*_*_*', '*root.model.norm*', NULL),
  (3, '*lmhead*', NULL, '*lm_head*', NULL),
  (4, '*layernormoperation_35*', NULL, '*embeddings_layernorm*', NULL),
  (5, '*layernormoperation_66*', NULL, '*ln_f*', NULL);

-- msit's custom table: key '<AtbType>[_<tensorfile>]' -> values '<TorchType>[_<tensorfile>]'.
-- Types match as substrings of the op type / module class. User entries replace a key's values.
CREATE TEMP TABLE at_custom_map (key TEXT PRIMARY KEY, vals TEXT NOT NULL, ord INTEGER NOT NULL);
INSERT INTO at_custom_map VALUES
  ('CommonLayer_outtensor0', '["GLMBlock_output_0","BloomBlock_output_0"]', 1),
  ('MlpGateLayerV2', '["BloomMLP","MLP"]', 2),
  ('RmsNormOperation', '["RMSNorm"]', 3),
  ('SelfAttentionOperation', '["CoreAttention"]', 4);
INSERT INTO at_custom_map (key, vals, ord)
SELECT j.key, j.value, 100 + row_number() OVER (ORDER BY j.id)
FROM json_each(coalesce(?8, '{}')) j
WHERE true
ON CONFLICT (key) DO UPDATE SET vals = excluded.vals;

-- One row per (ATB type, torch type) rule. exact = 1: msit's built-in table (exact type, leaves
-- only, an un-biased Linear hands over to its bias-add sibling); 0: custom table (substring, any
-- node of the layer, the layer included). Locations: '' = all outputs, else one tensor file stem.
CREATE TEMP TABLE at_op_map (
  rule_no INTEGER PRIMARY KEY, exact INTEGER NOT NULL, atb_type TEXT NOT NULL, atb_loc TEXT NOT NULL,
  torch_type TEXT NOT NULL, torch_loc TEXT NOT NULL);
INSERT INTO at_op_map VALUES
  (1, 1, 'LayerNormOperation', 'outtensor0', 'LayerNorm', 'output'),
  (2, 1, 'LinearOperation', 'outtensor0', 'Linear', 'output');
-- A key or value is split at its first '_': type left, tensor file stem right.
INSERT INTO at_op_map (rule_no, exact, atb_type, atb_loc, torch_type, torch_loc)
SELECT 10 + row_number() OVER (ORDER BY c.ord, v.id), 0,
       CASE WHEN instr(c.key, '_') > 0 THEN substr(c.key, 1, instr(c.key, '_') - 1) ELSE c.key END,
       CASE WHEN instr(c.key, '_') > 0 THEN lower(substr(c.key, instr(c.key, '_') + 1)) ELSE '' END,
       CASE WHEN instr(v.value, '_') > 0 THEN substr(v.value, 1, instr(v.value, '_') - 1) ELSE v.value END,
       CASE WHEN instr(v.value, '_') > 0 THEN lower(substr(v.value, instr(v.value, '_') + 1)) ELSE '' END
FROM at_custom_map c, json_each(c.vals) v;
