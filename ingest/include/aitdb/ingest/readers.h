#pragma once
// One reader per tensor file format. Each returns the tensors in a file and throws
// FormatError(path, reason) for anything it will not accept. None of them executes or trusts
// content: sizes are checked against the file before anything is allocated, and the declared
// lengths, offsets and counts must cover the payload exactly.
//
// Every reader has two entry points that share one decoder: one over a file (read with positioned
// reads, never loaded whole) and one over bytes already in memory, where `display_path` is the
// name errors carry (and, for MD5 placeholders, the name whose basename is the digest).
#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"

namespace aitdb::ingest {

enum class FileFormat { AtbBin, Md5Placeholder, Npy, Pth, Safetensors, LegacyTorch, Unknown };

std::string_view format_name(FileFormat f);

// Sniffs magic bytes; the name is only used for MD5 placeholders.
FileFormat sniff_format(const std::filesystem::path& path, const ReadLimits& limits);
FileFormat sniff_format(std::span<const std::byte> bytes, const std::string& display_path, const ReadLimits& limits);
bool is_md5_name(std::string_view name);

std::vector<DecodedTensor> read_atb_bin(const std::filesystem::path& path, const ReadLimits& limits);
std::vector<DecodedTensor> read_atb_bin(std::span<const std::byte> bytes, const std::string& display_path,
                                        const ReadLimits& limits);
std::vector<DecodedTensor> read_npy(const std::filesystem::path& path, const ReadLimits& limits);
std::vector<DecodedTensor> read_npy(std::span<const std::byte> bytes, const std::string& display_path,
                                    const ReadLimits& limits);
// The elements of a string .npy (descr 'U' or 'S'), as UTF-8; nullopt when it holds anything else.
std::optional<std::vector<std::string>> read_npy_strings(const std::filesystem::path& path, const ReadLimits& limits);
std::vector<DecodedTensor> read_pth(const std::filesystem::path& path, const ReadLimits& limits);
std::vector<DecodedTensor> read_pth(std::span<const std::byte> bytes, const std::string& display_path,
                                    const ReadLimits& limits);
std::vector<DecodedTensor> read_safetensors(const std::filesystem::path& path, const ReadLimits& limits);
std::vector<DecodedTensor> read_safetensors(std::span<const std::byte> bytes, const std::string& display_path,
                                            const ReadLimits& limits);

struct TensorFile {
  FileFormat format;
  std::vector<DecodedTensor> tensors;
};
// Sniffs and dispatches to the reader above.
TensorFile read_tensor_file(const std::filesystem::path& path, const ReadLimits& limits);
TensorFile read_tensor_file(std::span<const std::byte> bytes, const std::string& display_path,
                            const ReadLimits& limits);

}  // namespace aitdb::ingest
