#pragma once
// What a run's source looked like when it was ingested, in O(1) space: the number of walked
// entries, their bytes, and an order-independent digest of (rel path, size, mtime). Stored in the
// run's options JSON; a stat-only re-walk tells whether the source changed since.
#include <cstdint>
#include <optional>
#include <string>

#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {

struct SourceSignature {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
  std::uint64_t digest = 0;  // sum of XXH64 over the entries: the walk order does not matter

  void add(const std::string& rel, std::uint64_t size, std::optional<std::int64_t> mtime_ns);
  bool operator==(const SourceSignature&) const = default;
  // One line saying how `now` differs from this (ingested) signature.
  [[nodiscard]] std::string change_since(const SourceSignature& now) const;
};

inline constexpr const char* kSignatureKey = "source_signature";

// Walks the run's root as an ingest would (same scope), with stat only.
SourceSignature current_signature(const DetectedDump& dump);

// The signature stored in a run's options JSON; nullopt for runs of older aitdb versions.
std::optional<SourceSignature> stored_signature(const std::string& options_json);

}  // namespace aitdb::ingest
