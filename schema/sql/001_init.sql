-- aitdb schema version 1: the warehouse of one or more dump runs.

-- One ingested dump (a tree or a single file).
CREATE TABLE runs (
  id            INTEGER PRIMARY KEY,
  name          TEXT    NOT NULL UNIQUE,
  flavour       TEXT    NOT NULL,            -- atb_tree | torch_tree | files | atb_bin | npy | pth | safetensors
  source_root   TEXT    NOT NULL,            -- absolute path given to `aitdb ingest`
  created_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
  tool_version  TEXT    NOT NULL,
  options       TEXT                         -- JSON of the ingest options
);

-- Every file met under the run root, tensor or not.
CREATE TABLE files (
  id        INTEGER PRIMARY KEY,
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rel_path  TEXT    NOT NULL,                -- relative to the run root, '/' separated
  size      INTEGER NOT NULL,
  mtime_ns  INTEGER,
  kind      TEXT    NOT NULL,                -- tensor | stats | md5 | alias | aux | other
  status    TEXT    NOT NULL,                -- ok | error | skipped
  content   TEXT,                            -- small text side files (op_param.json, topology JSON, csv) verbatim
  UNIQUE (run_id, rel_path)
);

-- Tensor bytes, stored once per distinct content across all runs.
CREATE TABLE blobs (
  key          BLOB    PRIMARY KEY,          -- XXH3-128 of the raw bytes
  codec        TEXT    NOT NULL,             -- zstd | shuffle+zstd
  elem_size    INTEGER NOT NULL,             -- byte-plane width of the shuffle
  raw_size     INTEGER NOT NULL,
  stored_size  INTEGER NOT NULL,
  chunk_count  INTEGER NOT NULL,
  md5          TEXT                          -- filled on demand by matchers that pair by MD5
);

CREATE TABLE blob_chunks (
  key   BLOB    NOT NULL REFERENCES blobs(key) ON DELETE CASCADE,
  seq   INTEGER NOT NULL,
  data  BLOB    NOT NULL,
  PRIMARY KEY (key, seq)
);

-- One operation directory of an ATB tree (kept with its op_param.json).
CREATE TABLE ops (
  id        INTEGER PRIMARY KEY,
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rank_key  TEXT    NOT NULL,                -- '{device}_{pid}'
  device_id INTEGER,
  pid       INTEGER,
  token     INTEGER,
  op_path   TEXT    NOT NULL,                -- '2_0_3'
  op_names  TEXT    NOT NULL,                -- JSON array, one name per path component
  op_type   TEXT    NOT NULL,                -- last name
  rel_dir   TEXT    NOT NULL,
  param     TEXT,                            -- op_param.json content (JSON)
  UNIQUE (run_id, rank_key, token, op_path)
);

CREATE TABLE tensors (
  id           INTEGER PRIMARY KEY,
  run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  file_id      INTEGER REFERENCES files(id) ON DELETE CASCADE,
  source_kind  TEXT    NOT NULL,             -- atb_bin | npy | pth | safetensors
  rank_key     TEXT,                         -- '{device}_{pid}' of the dump tree
  device_id    INTEGER,
  pid          INTEGER,
  token        INTEGER,                      -- executeCount folder (ATB) / token folder (torch)
  op_path      TEXT,                         -- ATB id path '2_0_3', torch module name, or file path
  op_names     TEXT,                         -- JSON array of ATB op names per path component
  op_type      TEXT,                         -- ATB: last op name
  phase        TEXT,                         -- before | after (ATB)
  io           TEXT,                         -- in | out | weight
  io_index     INTEGER,
  io_subindex  INTEGER,                      -- torch nested outputs: output_{i}_{j}
  io_name      TEXT,                         -- ATB irName suffix, safetensors/state-dict key
  dtype        TEXT,                         -- canonical dtype name, NULL when unknown (MD5 placeholder)
  format       INTEGER,                      -- aclFormat code (2 = ND)
  shape        TEXT,                         -- JSON array
  numel        INTEGER,
  nbytes       INTEGER,
  blob_key     BLOB REFERENCES blobs(key),   -- NULL for stats-only files and placeholders
  md5          TEXT,                         -- from an MD5 placeholder's file name
  min          REAL,
  max          REAL,
  mean         REAL,
  std          REAL,
  l2norm       REAL,
  nan_count    INTEGER,
  inf_count    INTEGER,
  zero_count   INTEGER,
  stats_source TEXT,                         -- computed | file
  alias_of     TEXT,                         -- ATB alias file: '<op path>_<io><k>.bin'
  flags        TEXT                          -- e.g. 'appended_records=2'
);
CREATE INDEX tensors_match ON tensors (run_id, token, op_path, io, io_index);
CREATE INDEX tensors_blob  ON tensors (blob_key);
CREATE INDEX tensors_file  ON tensors (file_id);

CREATE TABLE ingest_errors (
  id        INTEGER PRIMARY KEY,
  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  rel_path  TEXT    NOT NULL,
  reason    TEXT    NOT NULL
);
CREATE INDEX ingest_errors_run ON ingest_errors (run_id);
