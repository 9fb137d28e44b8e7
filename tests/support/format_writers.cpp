#include "format_writers.h"

#include <zip.h>

#include <memory>
#include <stdexcept>

#include "aitdb/schema/tensor_formats.h"

namespace aitdb::test {

namespace {
std::string join_dims(const std::vector<std::int64_t>& dims) {
  std::string s;
  for (std::size_t i = 0; i < dims.size(); ++i) s += (i ? "," : "") + std::to_string(dims[i]);
  return s;
}
std::string payload_str(const std::vector<std::byte>& p) {
  return {reinterpret_cast<const char*>(p.data()), p.size()};
}
}  // namespace

std::string atb_bin(int dtype_code, const std::vector<std::int64_t>& dims, const std::vector<std::byte>& payload,
                    int format) {
  return formats::atb_bin_header(dtype_code, format, dims, payload.size()) + payload_str(payload);
}

std::string atb_bin_minimal(int dtype_code, const std::vector<std::int64_t>& dims,
                            const std::vector<std::byte>& payload) {
  return "dtype=" + std::to_string(dtype_code) + "\ndims=" + join_dims(dims) + "\n$End=1\n" + payload_str(payload);
}

std::string atb_bin_stats(int dtype_code, const std::vector<std::int64_t>& dims, const std::string& max,
                          const std::string& min, const std::string& mean, const std::string& l2norm) {
  return "$Version=1.0\n$Object.Count=0\n$Object.Length=0\nformat=2\ndtype=" + std::to_string(dtype_code) +
         "\ndims=" + join_dims(dims) + "\nmax=" + max + "\nmin=" + min + "\nmean=" + mean + "\nl2norm=" + l2norm +
         "\n$End=1\n";
}

std::string npy(const std::string& descr, const std::vector<std::int64_t>& shape, const std::vector<std::byte>& data,
                bool fortran) {
  return formats::npy_header(descr, shape, fortran) + payload_str(data);
}

std::string safetensors(const std::vector<SafetensorsEntry>& entries) {
  std::vector<formats::SafetensorsEntryInfo> infos;
  std::string buffer;
  for (const auto& e : entries) {
    infos.push_back({e.name, e.dtype, e.shape, e.data.size()});
    buffer += payload_str(e.data);
  }
  return formats::safetensors_header(infos) + buffer;
}

namespace {

struct ZipDiscard {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct SourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

[[noreturn]] void zip_failed(const char* what) {
  throw std::runtime_error(std::string("zip_archive: ") + what);
}

}  // namespace

std::string zip_archive(const std::vector<ZipEntryBytes>& entries) {
  // libzip writes the archive into `target`, a growable memory source kept alive past zip_close.
  std::unique_ptr<zip_source_t, SourceFree> target(zip_source_buffer_create(nullptr, 0, 0, nullptr));
  if (!target) zip_failed("no memory source");
  std::unique_ptr<zip_t, ZipDiscard> z(zip_open_from_source(target.get(), ZIP_TRUNCATE, nullptr));
  if (!z) zip_failed("cannot open");
  zip_source_keep(target.get());
  for (const auto& e : entries) {
    zip_source_t* s = zip_source_buffer_create(e.data.data(), e.data.size(), 0, nullptr);
    const zip_int64_t idx = s == nullptr ? -1 : zip_file_add(z.get(), e.name.c_str(), s, ZIP_FL_OVERWRITE);
    if (idx < 0) {
      zip_source_free(s);
      zip_failed("cannot add an entry");
    }
    if (zip_set_file_compression(z.get(), static_cast<zip_uint64_t>(idx), e.deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE,
                                 e.deflate ? 1 : 0) != 0) {
      zip_failed("cannot set compression");
    }
  }
  if (zip_close(z.get()) != 0) zip_failed("cannot write");
  (void)z.release();  // zip_close freed it
  zip_stat_t st;
  if (zip_source_stat(target.get(), &st) != 0 || zip_source_open(target.get()) != 0) zip_failed("cannot reread");
  std::string out(static_cast<std::size_t>(st.size), '\0');
  const zip_int64_t n = zip_source_read(target.get(), out.data(), out.size());
  zip_source_close(target.get());
  if (n != static_cast<zip_int64_t>(out.size())) zip_failed("short reread");
  return out;
}

std::string torch_tensor_pickle(const std::string& storage_type, std::uint64_t storage_numel, std::int64_t offset,
                                const std::vector<std::int64_t>& size, const std::vector<std::int64_t>& stride) {
  const auto binint = [](std::int64_t v) {  // BININT: 4-byte little-endian
    std::string s = "J";
    for (int i = 0; i < 4; ++i) s += static_cast<char>((static_cast<std::uint64_t>(v) >> (8 * i)) & 0xFFU);
    return s;
  };
  const auto long1 = [](std::uint64_t v) {  // LONG1 with 8 bytes: any storage size
    std::string s = "\x8a\x08";
    for (int i = 0; i < 8; ++i) s += static_cast<char>((v >> (8 * i)) & 0xFFU);
    return s;
  };
  const auto unicode = [](const std::string& v) { return "\x8c" + std::string(1, static_cast<char>(v.size())) + v; };
  const auto tuple = [&](const std::vector<std::int64_t>& v) {
    std::string s = "(";
    for (const auto x : v) s += binint(x);
    return s + "t";
  };
  std::string p = "\x80\x02";
  p += "ctorch._utils\n_rebuild_tensor_v2\n";
  p += "(";  // args of the rebuild
  p += "(" + unicode("storage") + "ctorch\n" + storage_type + "\n" + unicode("0") + unicode("cpu") +
       long1(storage_numel) + "tQ";  // persistent id -> storage
  p += binint(offset) + tuple(size) + tuple(stride);
  p += "\x89";                           // requires_grad = False
  p += "ccollections\nOrderedDict\n)R";  // backward hooks
  p += "tR.";
  return p;
}

std::string pth(const std::string& storage_type, std::size_t element_size, const std::vector<std::int64_t>& shape,
                const std::vector<std::byte>& data) {
  std::vector<std::int64_t> stride(shape.size(), 1);
  for (std::size_t k = shape.size(); k-- > 1;) stride[k - 1] = stride[k] * shape[k];
  const std::string pickle = torch_tensor_pickle(storage_type, data.size() / element_size, 0, shape, stride);
  return zip_archive(
      {{"archive/data.pkl", std::vector<std::byte>(reinterpret_cast<const std::byte*>(pickle.data()),
                                                   reinterpret_cast<const std::byte*>(pickle.data()) + pickle.size())},
       {"archive/data/0", data},
       {"archive/version", {std::byte{'3'}, std::byte{'\n'}}}});
}

}  // namespace aitdb::test
