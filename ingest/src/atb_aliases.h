#pragma once
// ATB alias files (docs/formats.md, "ATB dump tree"): a `.bin` holding only `data=<file>` names another tensor of
// the same rank and token instead of carrying bytes.
#include <string>
#include <utility>
#include <vector>

#include "aitdb/schema/ingest_transaction.h"

namespace aitdb::ingest {

// Gives every alias row of the run the blob, dtype, shape and statistics of the tensor it names.
// Returns (file, alias) of those left unresolved.
std::vector<std::pair<std::string, std::string>> resolve_atb_aliases(IngestTransaction& tx);

}  // namespace aitdb::ingest
