#pragma once
// What a format reader hands to the pipeline: one tensor's description and bytes, with no
// knowledge of where it sits in a dump tree (the layouts add that) or how it will be stored.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "aitdb/schema/dtype.h"

namespace aitdb::ingest {

// Statistics a dump file carries itself (ATB stats-only files).
struct FileStats {
  std::optional<double> min;
  std::optional<double> max;
  std::optional<double> mean;
  std::optional<double> l2norm;
};

struct DecodedTensor {
  std::string name;            // "" for one-tensor files; key inside dicts / safetensors
  std::optional<DType> dtype;  // nullopt only for MD5 placeholders
  int format = 2;              // aclFormat; 2 = ND
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;  // contiguous, row-major, little-endian
  bool has_data = false;
  std::optional<FileStats> file_stats;  // stats-only files
  std::optional<std::string> md5;       // MD5 placeholder (file name)
  std::optional<std::string> alias_of;  // ATB alias file: bytes live in another file
  std::string flags;                    // e.g. "appended_records=2"
};

// The largest input file read by default: 10 GiB, as msit's FileChecker.
inline constexpr std::uint64_t kDefaultMaxFileSize = 10ULL << 30U;

// Limits that keep hostile files from making us allocate wildly.
struct ReadLimits {
  std::uint64_t max_file_size = kDefaultMaxFileSize;
};

}  // namespace aitdb::ingest
