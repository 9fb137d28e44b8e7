#pragma once
// A read-only file with positioned reads, used by every reader. Internal to ingest.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"

namespace aitdb::ingest {

class InputFile {
 public:
  // Opens path (following symlinks) and refuses anything that is not a regular file or is larger
  // than limits.max_file_size.
  InputFile(const std::filesystem::path& path, const ReadLimits& limits);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  [[nodiscard]] std::uint64_t size() const { return size_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  // Reads exactly n bytes at offset; a short read is a FormatError ("truncated").
  void read_at(std::uint64_t offset, std::size_t n, std::byte* dst) const;
  std::vector<std::byte> read_vec(std::uint64_t offset, std::size_t n) const;
  std::string read_string(std::uint64_t offset, std::size_t n) const;
  [[noreturn]] void fail(const std::string& reason) const;

 private:
  std::string name_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Each worker thread keeps one spare byte buffer: read_vec() fills it instead of allocating, and
// recycle_buffer() hands a tensor's buffer back once it has been encoded. Large buffers would
// otherwise be freshly mapped (and page-faulted) for every tensor.
void recycle_buffer(std::vector<std::byte>&& buf);

std::uint64_t load_u64le(const std::byte* p);
std::uint32_t load_u32le(const std::byte* p);
std::uint16_t load_u16le(const std::byte* p);
std::string format_bytes(std::uint64_t n);

}  // namespace aitdb::ingest
