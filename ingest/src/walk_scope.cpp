// The prune rule DumpWalker applies to every directory of a run's root.
#include "aitdb/ingest/layout.h"

namespace aitdb::ingest {

bool WalkScope::skips(const std::string& rel_dir) const {
  for (const auto& e : excluded) {
    if (rel_dir == e) return true;
  }
  if (!kept) return false;
  const bool in_tree = kept_within.empty() || rel_dir.starts_with(kept_within + "/");
  if (!in_tree) return false;
  const bool on_path = rel_dir == *kept || kept->starts_with(rel_dir + "/") || rel_dir.starts_with(*kept + "/");
  return !on_path;
}

}  // namespace aitdb::ingest
