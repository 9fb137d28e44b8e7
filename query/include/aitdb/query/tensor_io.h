#pragma once
// Looking up one stored tensor and getting it back out: `aitdb show` and `aitdb export-tensor`.
#include <filesystem>
#include <ostream>
#include <string>

#include "aitdb/schema/store.h"

namespace aitdb::query {

// TENSOR is a tensor id ("42"), RUN:REL_PATH[#NAME] (NAME = key inside a multi-tensor file), or
// a file path as the report CSV prints it (the run's source root joined with the file's relative
// path; PATH#NAME picks one tensor of a multi-tensor file). A path naming several tensors is a
// UsageError listing their ids.
TensorRow resolve_tensor(const Store& store, const std::string& spec);

// Identity, statistics and the first `values` elements.
void describe_tensor(const Store& store, const TensorRow& t, std::size_t values, std::ostream& out);

enum class ExportFormat { Npy, AtbBin };
// Writes the tensor and returns the dtype written. .bin writes an ATB TensorBinFile with the exact
// bytes and the original aclDataType code. .npy keeps the dtype and bytes where numpy has the
// type; bfloat16 and float8, which numpy lacks, are written as float32, which holds each of their
// values exactly (so numpy loads numbers and aitdb reads the same values back). as_float32
// converts any real dtype. Refuses to overwrite an existing file.
DType export_tensor(const Store& store, const TensorRow& t, const std::filesystem::path& out, ExportFormat fmt,
                    bool as_float32);
ExportFormat export_format_for(const std::filesystem::path& out);  // by extension, throws UsageError

}  // namespace aitdb::query
