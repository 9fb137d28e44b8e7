#include "file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "aitdb/schema/errors.h"

namespace aitdb::ingest {

void ByteSource::fail(const std::string& reason) const { throw FormatError(name_, reason); }

void ByteSource::check_size_cap(const ReadLimits& limits) const {
  if (size_ > limits.max_file_size) {
    fail("file is " + format_bytes(size_) + ", over the size cap of " + format_bytes(limits.max_file_size));
  }
}

void ByteSource::read_at(std::uint64_t offset, std::size_t n, std::byte* dst) const {
  if (offset > size_ || n > size_ - offset) {
    fail("truncated: needs " + std::to_string(n) + " bytes at offset " + std::to_string(offset) +
         " but the file has " + std::to_string(size_));
  }
  if (n > 0) copy_at(offset, n, dst);
}

InputFile::InputFile(const std::filesystem::path& path, const ReadLimits& limits) : ByteSource(path.string(), 0) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) fail(std::string("cannot open: ") + std::strerror(errno));
  struct stat st {};
  // The descriptor is closed by the destructor only once construction succeeded.
  const auto fail_closing = [&](const std::string& reason) {
    ::close(fd_);
    fd_ = -1;
    fail(reason);
  };
  if (::fstat(fd_, &st) != 0) fail_closing(std::string("cannot stat: ") + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail_closing("not a regular file");
  size_ = static_cast<std::uint64_t>(st.st_size);
  try {
    check_size_cap(limits);
  } catch (...) {
    ::close(fd_);
    fd_ = -1;
    throw;
  }
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::copy_at(std::uint64_t offset, std::size_t n, std::byte* dst) const {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd_, dst + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      fail(std::string("read error: ") + std::strerror(errno));
    }
    if (r == 0) fail("truncated: file shrank while reading");
    done += static_cast<std::size_t>(r);
  }
}

namespace {
thread_local std::vector<std::byte> spare;
}  // namespace

void recycle_buffer(std::vector<std::byte>&& buf) {
  if (buf.capacity() > spare.capacity()) spare = std::move(buf);
}

MemoryInput::MemoryInput(std::span<const std::byte> bytes, std::string display_path, const ReadLimits& limits)
    : ByteSource(std::move(display_path), bytes.size()), bytes_(bytes) {
  check_size_cap(limits);
}

void MemoryInput::copy_at(std::uint64_t offset, std::size_t n, std::byte* dst) const {
  std::memcpy(dst, bytes_.data() + offset, n);
}

std::vector<std::byte> ByteSource::read_vec(std::uint64_t offset, std::size_t n) const {
  if (offset > size_ || n > size_ - offset) read_at(offset, n, nullptr);  // fails with "truncated"
  std::vector<std::byte> v;
  if (n >= (1U << 16U) && spare.capacity() >= n) v.swap(spare);
  v.resize(n);
  read_at(offset, n, v.data());
  return v;
}

std::string ByteSource::read_string(std::uint64_t offset, std::size_t n) const {
  std::string s(n, '\0');
  read_at(offset, n, reinterpret_cast<std::byte*>(s.data()));
  return s;
}

std::uint64_t load_u64le(const std::byte* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8U) | std::to_integer<std::uint64_t>(p[i]);
  return v;
}
std::uint32_t load_u32le(const std::byte* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8U) | std::to_integer<std::uint32_t>(p[i]);
  return v;
}
std::uint16_t load_u16le(const std::byte* p) {
  return static_cast<std::uint16_t>(std::to_integer<unsigned>(p[0]) | (std::to_integer<unsigned>(p[1]) << 8U));
}

std::string format_bytes(std::uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace aitdb::ingest
