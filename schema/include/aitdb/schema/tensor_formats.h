#pragma once
// Writers of the tensor file formats aitdb reads (docs/formats.md): `.npy`, the ATB TensorBinFile
// and `.safetensors`. They are the only encoders in the project: `export-tensor`, the benchmarks'
// dump generators and the tests' file builders all go through them, so a format has one writer
// here and one reader in ingest/src. The tests check both against numpy and torch themselves
// (tests/py), which share no code with either.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "aitdb/schema/dtype.h"

namespace aitdb::formats {

// .npy version 1.0 header: magic, version, length and the header dict padded with spaces so that
// the data starts at a multiple of 64. `descr` is numpy's ("<f4", "|b1", ">i2"); the tests pass
// descrs aitdb does not store to check that the reader refuses them.
std::string npy_header(std::string_view descr, std::span<const std::int64_t> shape, bool fortran_order = false);
// The header for a tensor of `dtype`; throws FormatError when numpy has no such type
// (bfloat16, float8: export writes those as float32).
std::string npy_header(DType dtype, std::span<const std::int64_t> shape);

// ATB TensorBinFile header with one `data` object covering the whole payload (as the ATB probe
// writes them): the payload follows right after it.
std::string atb_bin_header(int acl_dtype_code, int acl_format, std::span<const std::int64_t> dims,
                           std::uint64_t payload_bytes);

// One tensor of a .safetensors file; entries are laid out in the order given, back to back.
struct SafetensorsEntryInfo {
  std::string_view name;
  std::string_view dtype;  // the format's own name: "F32", "BF16", ... (dtype_info().safetensors_name)
  std::span<const std::int64_t> shape;
  std::uint64_t nbytes;
};
// The 8-byte little-endian header length and the JSON header (with `__metadata__` {"format":"pt"}
// as torch's writer adds it); the entries' bytes follow in order.
std::string safetensors_header(std::span<const SafetensorsEntryInfo> entries);

}  // namespace aitdb::formats
