-- aitdb schema version 6: the probe's side files parsed at ingest (docs/formats.md, "Operation
-- and kernel io CSV", "cpu_profiling"): what each op said about its inputs and outputs, and its
-- setup/execute statistics, linked to the op graph and to the stored tensors.

-- One data row of an operation_tensors_{n}.csv or kernel_tensors_{n}.csv.
CREATE TABLE op_io_rows (
  id             INTEGER PRIMARY KEY,
  run_id         INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  file_id        INTEGER REFERENCES files(id) ON DELETE CASCADE,
  line           INTEGER NOT NULL,          -- 1-based line of the CSV (the header is line 1)
  kind           TEXT    NOT NULL,          -- operation | kernel
  pid            INTEGER,                   -- from operation_io_tensors/{PID}/ (kernel_io_tensors/{PID}/)
  execute_count  INTEGER,                   -- from the file name: the token folder of the op
  case_num       INTEGER,
  op_name        TEXT    NOT NULL,          -- operation rows: '{OpType}_{id path}'; kernel rows: kernel name
  op_type        TEXT,                      -- operation rows: OpName without its id path
  id_path        TEXT,                      -- operation rows: the id path of OpName ('2_0_3'), else the tensors' op directory
  op_param       TEXT    NOT NULL,          -- operation rows: JSON; kernel rows: the kernel's own text
  in_num         INTEGER NOT NULL,
  out_num        INTEGER NOT NULL,
  data_gen_type  TEXT,
  data_gen_range TEXT,
  test_type      TEXT,
  test_level     TEXT,
  from_model     TEXT,
  soc_version    TEXT,
  expected_error TEXT,
  op_node_id     INTEGER REFERENCES op_nodes(id) ON DELETE SET NULL
);
CREATE INDEX op_io_rows_run ON op_io_rows (run_id, kind, op_name);
CREATE INDEX op_io_rows_node ON op_io_rows (op_node_id);

-- One input or output of a row, in list order.
CREATE TABLE op_io_tensors (
  row_id     INTEGER NOT NULL REFERENCES op_io_rows(id) ON DELETE CASCADE,
  io         TEXT    NOT NULL,              -- in | out
  io_index   INTEGER NOT NULL,
  dtype      TEXT    NOT NULL,              -- the CSV's dtype name (float16, bf16, float, int32, undefined, ...)
  format     TEXT    NOT NULL,              -- nd, fractal_nz, ...
  shape      TEXT    NOT NULL,              -- JSON array; [] for a 0-d tensor
  file_path  TEXT,                          -- as written (absolute on the machine that dumped)
  tensor_id  INTEGER REFERENCES tensors(id) ON DELETE SET NULL,  -- the stored tensor that path names
  PRIMARY KEY (row_id, io, io_index)
);
CREATE INDEX op_io_tensors_tensor ON op_io_tensors (tensor_id);

-- One key of one line of cpu_profiling/{PID}/operation_statistic_{n}.txt, or one cell of msit's
-- converted operation_statistic_{n}.csv.
CREATE TABLE cpu_profiling (
  id            INTEGER PRIMARY KEY,
  run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  file_id       INTEGER REFERENCES files(id) ON DELETE CASCADE,
  line          INTEGER NOT NULL,
  pid           INTEGER,
  execute_count INTEGER,
  op_name       TEXT    NOT NULL,           -- '{OpType}_{id path}'
  id_path       TEXT,
  phase         TEXT    NOT NULL,           -- setup | execute
  key           TEXT    NOT NULL,           -- totalTime, runnerSetupTime, kernelExecuteTime, ...
  value         REAL    NOT NULL,
  op_node_id    INTEGER REFERENCES op_nodes(id) ON DELETE SET NULL
);
CREATE INDEX cpu_profiling_run ON cpu_profiling (run_id, op_name);
CREATE INDEX cpu_profiling_node ON cpu_profiling (op_node_id);
