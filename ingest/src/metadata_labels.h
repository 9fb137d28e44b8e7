#pragma once
#include <string>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb::ingest {

// Parses a metadata.json of manual data_id pairs; throws FormatError for malformed files.
std::vector<LabelRow> read_metadata_labels(const std::string& path, const std::string& rel_path, const std::string& text);

}  // namespace aitdb::ingest
