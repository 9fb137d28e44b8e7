#pragma once
// Dump files for the tests, byte by byte. Valid .npy, ATB .bin and .safetensors files come from the
// project's one writer per format (aitdb/schema/tensor_formats.h); what is here adds the variants
// only tests need (minimal and stats-only ATB files, any npy descr, torch.save zips and pickles,
// deflated zip entries for bomb tests). The independent check of writers and readers alike is
// numpy and torch (tests/py, FormatWriters.*). Shared by the GoogleTest suites and the fuzz
// seed-corpus generator; nothing here depends on GoogleTest.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace aitdb::test {

// ATB TensorBinFile as the msit probe writes it (docs/formats.md).
std::string atb_bin(int dtype_code, const std::vector<std::int64_t>& dims, const std::vector<std::byte>& payload,
                    int format = 2);
// msit tensor_view's minimal variant: dtype, dims, $End, bytes.
std::string atb_bin_minimal(int dtype_code, const std::vector<std::int64_t>& dims,
                            const std::vector<std::byte>& payload);
// Stats-only file (docs/formats.md).
std::string atb_bin_stats(int dtype_code, const std::vector<std::int64_t>& dims, const std::string& max,
                          const std::string& min, const std::string& mean, const std::string& l2norm);

// .npy v1.0 writer; descr e.g. "<f4", ">i4".
std::string npy(const std::string& descr, const std::vector<std::int64_t>& shape, const std::vector<std::byte>& data,
                bool fortran = false);

struct SafetensorsEntry {
  std::string name;
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;
};
std::string safetensors(const std::vector<SafetensorsEntry>& entries);

// A torch.save zip as torch writes it: {prefix}/data.pkl, {prefix}/data/{key} per storage and
// {prefix}/version. Entries are stored, or deflated when `deflate` (torch never compresses; tests
// use it to build decompression bombs).
struct ZipEntryBytes {
  std::string name;
  std::vector<std::byte> data;
  bool deflate = false;
};
std::string zip_archive(const std::vector<ZipEntryBytes>& entries);

// The protocol-2 pickle torch.save writes for one tensor: _rebuild_tensor_v2 over a storage of
// `storage_numel` elements of torch.`storage_type` (e.g. "FloatStorage") under key "0".
std::string torch_tensor_pickle(const std::string& storage_type, std::uint64_t storage_numel, std::int64_t offset,
                                const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride);
// A whole .pth of one contiguous tensor whose storage is exactly `data`.
std::string pth(const std::string& storage_type, std::size_t element_size, const std::vector<std::int64_t>& shape,
                const std::vector<std::byte>& data);

}  // namespace aitdb::test
