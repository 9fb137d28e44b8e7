#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"
#include "aitdb/schema/ingest_transaction.h"

namespace aitdb::ingest {

// Parses a metadata.json of manual data_id pairs; throws FormatError for malformed files. `path`
// names the file in errors; `rel_path` (its place in the dump) says which side one-path entries
// belong to.
std::vector<LabelRow> read_metadata_labels(const std::string& path, const std::string& rel_path,
                                           const std::string& text);
// The same from bytes in memory, refused when larger than limits.max_file_size.
std::vector<LabelRow> read_metadata_labels(std::span<const std::byte> bytes, const std::string& display_path,
                                           const std::string& rel_path, const ReadLimits& limits);

}  // namespace aitdb::ingest
