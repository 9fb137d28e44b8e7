#pragma once
// `aitdb ingest`: walk a dump, read every tensor in parallel (read, hash, statistics, shuffle +
// zstd on worker threads), write everything from one thread in one transaction.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/ingest/layout.h"
#include "aitdb/schema/store.h"

namespace aitdb::ingest {

struct IngestProgress {
  std::uint64_t files = 0;
  std::uint64_t tensors = 0;
  std::uint64_t bytes = 0;  // file bytes processed
  double seconds = 0;
};

struct IngestReport;

struct IngestOptions {
  // ingest_path: the run's name (default: the discovered name). ingest_all: with several roots,
  // each run is named "{run_name}/{discovered name}".
  std::optional<std::string> run_name;
  unsigned jobs = 0;                    // worker threads; 0 = one per core
  bool stats_only = false;              // keep statistics, not tensor bytes
  bool replace = false;                 // replace an existing run of the same name
  // Replacing a run (--replace, or a re-ingest of a changed source) deletes the comparisons that
  // reference it; without this the ingest is refused instead while any do.
  bool drop_comparisons = false;
  bool strict = false;                  // the first bad file fails the whole ingest
  int zstd_level = kDefaultZstdLevel;
  ReadLimits limits;
  std::uint64_t inflight_bytes = 16ULL << 20U;  // file bytes being processed at once (one larger file may go alone)
  std::function<void(const std::string& path, const std::string& reason)> on_error;
  std::function<void(const IngestProgress&)> on_progress;
  // ingest_all: each run's report as soon as that run is committed (or found unchanged), so what
  // was stored is known even when a later root fails; an exception thrown here stops the rest.
  std::function<void(const IngestReport&)> on_run;
};

struct IngestReport {
  std::string run_name;
  std::string flavour;
  std::string source_root;
  std::int64_t run_id = 0;
  bool unchanged = false;      // run existed and --replace was not given
  bool same_source = false;    // with unchanged: the existing run came from the same path
  // Set when a run of this name and source existed but its source changed since (or it was
  // stored by an older aitdb): why it was re-ingested.
  std::optional<std::string> refreshed;
  std::vector<std::int64_t> dropped_comparisons;  // ids of the comparisons deleted with the run this one replaced
  std::uint64_t files = 0;
  std::uint64_t tensors = 0;
  std::uint64_t errors = 0;
  std::uint64_t raw_bytes = 0;       // tensor bytes seen
  std::uint64_t new_blobs = 0;
  std::uint64_t dedup_blobs = 0;     // tensors whose bytes were already stored
  std::uint64_t stored_bytes = 0;    // compressed bytes newly written
  double seconds = 0;
  std::vector<std::string> notes;  // what the user should know about how the dump was read
};

// Ingests one discovered dump root as run `run_name`. An existing run of that name from the same
// source is reused when the source is unchanged, re-ingested (replaced) when it changed.
IngestReport ingest_dump(Store& store, const DetectedDump& dump, const std::string& run_name,
                         const IngestOptions& options);

// Ingests the one dump at or around `input` (a root, a path inside one, a tensor file). Throws
// FormatError listing the dumps when `input` holds several (use ingest_all).
IngestReport ingest_path(Store& store, const std::filesystem::path& input, const IngestOptions& options);

struct IngestAllReport {
  std::vector<IngestReport> runs;  // one per dump root, in discovery order
  std::vector<std::string> notes;  // discovery notes (search limits reached)
};
// Every dump at or below `input`: one run per root (docs/discovery.md).
IngestAllReport ingest_all(Store& store, const std::filesystem::path& input, const IngestOptions& options);

}  // namespace aitdb::ingest
