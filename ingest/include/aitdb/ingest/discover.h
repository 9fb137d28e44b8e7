#pragma once
// Dump discovery (docs/discovery.md): every dump root at or below a path given to `aitdb ingest`,
// or the root above a path that points inside one, each with its run name and walk scope.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {

struct DiscoveryLimits {
  int max_depth = 6;            // directory levels searched below the given path
  std::size_t max_dirs = 20000;  // directories listed before the search stops (with a note)
};

struct Discovery {
  std::vector<DetectedDump> roots;  // in a stable order (natural order of their paths)
  std::vector<std::string> notes;   // e.g. the search stopped at a limit
};

// Throws FormatError when the path does not exist or nothing in it is recognised (the reason
// lists what was looked for).
Discovery discover_dumps(const std::filesystem::path& input, const DiscoveryLimits& limits = {});

}  // namespace aitdb::ingest
