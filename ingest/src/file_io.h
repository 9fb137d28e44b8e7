#pragma once
// Where a reader's bytes come from, with positioned reads: a file read with pread (ingest) or a
// buffer already in memory (fuzzing, tests, embedders). Every reader decodes through ByteSource,
// so both entry points share one decoder and a file is never read whole into memory just to be
// handed to it. Internal to ingest.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "aitdb/ingest/decoded_tensor.h"

namespace aitdb::ingest {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  [[nodiscard]] std::uint64_t size() const { return size_; }
  // The name errors carry: the path, or what the caller calls an in-memory buffer.
  [[nodiscard]] const std::string& name() const { return name_; }
  // Reads exactly n bytes at offset; a short read is a FormatError ("truncated").
  void read_at(std::uint64_t offset, std::size_t n, std::byte* dst) const;
  std::vector<std::byte> read_vec(std::uint64_t offset, std::size_t n) const;
  std::string read_string(std::uint64_t offset, std::size_t n) const;
  [[noreturn]] void fail(const std::string& reason) const;

 protected:
  ByteSource(std::string name, std::uint64_t size) : name_(std::move(name)), size_(size) {}
  // Refuses a source larger than limits.max_file_size; derived constructors call it once sized.
  void check_size_cap(const ReadLimits& limits) const;
  // Copies bytes the caller has already bounds-checked.
  virtual void copy_at(std::uint64_t offset, std::size_t n, std::byte* dst) const = 0;

  std::string name_;
  std::uint64_t size_ = 0;
};

class InputFile final : public ByteSource {
 public:
  // Opens path (following symlinks) and refuses anything that is not a regular file or is larger
  // than limits.max_file_size.
  InputFile(const std::filesystem::path& path, const ReadLimits& limits);
  ~InputFile() override;

 private:
  void copy_at(std::uint64_t offset, std::size_t n, std::byte* dst) const override;
  int fd_ = -1;
};

// A view of bytes the caller owns and keeps alive while the reader runs.
class MemoryInput final : public ByteSource {
 public:
  MemoryInput(std::span<const std::byte> bytes, std::string display_path, const ReadLimits& limits);
  [[nodiscard]] std::span<const std::byte> bytes() const { return bytes_; }

 private:
  void copy_at(std::uint64_t offset, std::size_t n, std::byte* dst) const override;
  std::span<const std::byte> bytes_;
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
