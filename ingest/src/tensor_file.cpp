// Format sniffing by magic bytes and dispatch to the readers.
#include <cstring>

#include "aitdb/ingest/readers.h"
#include "aitdb/schema/errors.h"
#include "file_io.h"

namespace aitdb::ingest {

std::string_view format_name(FileFormat f) {
  switch (f) {
    case FileFormat::AtbBin: return "atb_bin";
    case FileFormat::Md5Placeholder: return "md5";
    case FileFormat::Npy: return "npy";
    case FileFormat::Pth: return "pth";
    case FileFormat::Safetensors: return "safetensors";
    case FileFormat::LegacyTorch: return "legacy_torch";
    case FileFormat::Unknown: return "unknown";
  }
  return "unknown";
}

bool is_md5_name(std::string_view name) {
  if (name.size() != 32) return false;
  for (const char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

namespace {

FileFormat sniff(const ByteSource& f, const std::string& display_path) {
  if (f.size() == 0) {
    return is_md5_name(std::filesystem::path(display_path).filename().string()) ? FileFormat::Md5Placeholder
                                                                                : FileFormat::Unknown;
  }
  const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(f.size(), 64));
  const std::string head = f.read_string(0, n);
  if (head.rfind("\x93NUMPY", 0) == 0) return FileFormat::Npy;
  if (head.rfind("PK\x03\x04", 0) == 0) return FileFormat::Pth;
  if (head.rfind("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 0) == 0) return FileFormat::LegacyTorch;
  if (n >= 10 && head[8] == '{') {
    // u64 header length followed by JSON: safetensors.
    const std::uint64_t len = load_u64le(reinterpret_cast<const std::byte*>(head.data()));
    if (len <= f.size() - 8) return FileFormat::Safetensors;
  }
  // ATB: a text first line of the form name=value.
  const std::size_t nl = head.find('\n');
  const std::size_t eq = head.find('=');
  if (eq != std::string::npos && eq > 0 && (nl == std::string::npos || eq < nl)) {
    bool text = true;
    for (std::size_t i = 0; i < eq; ++i) {
      const auto c = static_cast<unsigned char>(head[i]);
      if (c < 0x20 || c > 0x7E) text = false;
    }
    if (text) return FileFormat::AtbBin;
  }
  return FileFormat::Unknown;
}

// Dispatches on the sniffed format; `args` are a path and limits or a span, its name and limits, so
// both entry points reach the same readers and the same refusals.
template <typename... Args>
TensorFile read_as(FileFormat f, const std::string& display_path, const Args&... args) {
  switch (f) {
    case FileFormat::AtbBin:
    case FileFormat::Md5Placeholder: return {f, read_atb_bin(args...)};
    case FileFormat::Npy: return {f, read_npy(args...)};
    case FileFormat::Pth: return {f, read_pth(args...)};
    case FileFormat::Safetensors: return {f, read_safetensors(args...)};
    case FileFormat::LegacyTorch:
      throw FormatError(display_path, "legacy (pre-1.6, non-zip) torch.save format is not supported");
    case FileFormat::Unknown: break;
  }
  throw FormatError(display_path, "not a recognised tensor file (no ATB header, npy, zip or safetensors magic)");
}

}  // namespace

FileFormat sniff_format(const std::filesystem::path& path, const ReadLimits& limits) {
  return sniff(InputFile(path, limits), path.string());
}

FileFormat sniff_format(std::span<const std::byte> bytes, const std::string& display_path, const ReadLimits& limits) {
  return sniff(MemoryInput(bytes, display_path, limits), display_path);
}

TensorFile read_tensor_file(const std::filesystem::path& path, const ReadLimits& limits) {
  return read_as(sniff_format(path, limits), path.string(), path, limits);
}

TensorFile read_tensor_file(std::span<const std::byte> bytes, const std::string& display_path,
                            const ReadLimits& limits) {
  return read_as(sniff_format(bytes, display_path, limits), display_path, bytes, display_path, limits);
}

}  // namespace aitdb::ingest
