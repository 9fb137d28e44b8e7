// torch.save zip reader (docs/readers.md): libzip walks the central directory (torch writes
// zero sizes in local headers), the safe unpickler reads data.pkl, and tensors are gathered from
// their storages honouring offset and strides (a saved view carries its whole base storage).
//
// Nothing is inflated before its size is known to be sane: a storage entry must hold exactly the
// bytes its pickle declares (numel x element size), and a compressed entry may not claim to
// inflate beyond kMaxInflateRatio times its compressed size. libzip never yields more than the
// central directory's size, and we stop one byte after it, so memory stays bounded by the file.
#include <zip.h>

#include <algorithm>
#include <map>
#include <memory>

#include "aitdb/ingest/readers.h"
#include "file_io.h"
#include "safe_unpickler.h"

namespace aitdb::ingest {
namespace {

constexpr std::uint64_t kMaxPickle = 64ULL << 20U;
constexpr int kMaxNesting = 32;
// torch.save stores entries uncompressed; a deflated tensor rarely shrinks below half, and a
// pickle by about ten. Beyond this ratio an entry is a decompression bomb, not a tensor file.
constexpr std::uint64_t kMaxInflateRatio = 100;
// Entries this small are inflated whatever their ratio: they cannot hurt memory.
constexpr std::uint64_t kInflateRatioFloor = 1ULL << 20U;

struct ZipEntry {
  zip_uint64_t index = 0;
  zip_uint64_t size = 0;       // uncompressed, from the central directory
  zip_uint64_t comp_size = 0;  // as stored in the file
  bool compressed = false;
};

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

class Archive {
 public:
  // Takes ownership of `source` (a file or a memory buffer), also when it throws.
  Archive(const ByteSource& f, zip_source_t* source) : f_(f) {
    if (source == nullptr) f_.fail("cannot read as a zip archive");
    zip_error_t err;
    zip_error_init(&err);
    z_.reset(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!z_) {
      zip_source_free(source);
      const std::string msg = zip_error_strerror(&err);
      zip_error_fini(&err);
      f_.fail("not a readable zip archive: " + msg);
    }
    zip_error_fini(&err);
    const zip_int64_t n = zip_get_num_entries(z_.get(), 0);
    for (zip_int64_t i = 0; i < n; ++i) {
      zip_stat_t st;
      zip_stat_init(&st);
      if (zip_stat_index(z_.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 || (st.valid & ZIP_STAT_NAME) == 0) {
        f_.fail("zip entry " + std::to_string(i) + " is unreadable");
      }
      const std::string name = st.name;
      if (name.empty() || name[0] == '/' || name.find('\\') != std::string::npos || name == ".." ||
          name.rfind("../", 0) == 0 || name.find("/../") != std::string::npos ||
          (name.size() >= 3 && name.compare(name.size() - 3, 3, "/..") == 0)) {
        f_.fail("zip entry name '" + name + "' escapes the archive (refused)");
      }
      // A stored entry cannot be larger than the file; a compressed one is capped like any file.
      if (st.comp_method == ZIP_CM_STORE && st.size != st.comp_size) f_.fail("zip entry '" + name + "' has lying sizes");
      if (st.comp_size > f_.size()) f_.fail("zip entry '" + name + "' claims more bytes than the file holds");
      entries_[name] = {static_cast<zip_uint64_t>(i), st.size, st.comp_size, st.comp_method != ZIP_CM_STORE};
    }
  }

  [[nodiscard]] const std::map<std::string, ZipEntry>& entries() const { return entries_; }

  // Refuses an entry whose recorded size is not `expected` bytes, before inflating any of it.
  std::vector<std::byte> read_exactly(const std::string& name, std::uint64_t expected) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) f_.fail("zip entry '" + name + "' is missing");
    if (it->second.size != expected) {
      f_.fail("zip entry '" + name + "' holds " + std::to_string(it->second.size) + " bytes but the pickle declares " +
              std::to_string(expected));
    }
    return read(name, expected);
  }

  std::vector<std::byte> read(const std::string& name, std::uint64_t cap) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) f_.fail("zip entry '" + name + "' is missing");
    const ZipEntry& e = it->second;
    const zip_uint64_t size = e.size;
    if (size > cap) f_.fail("zip entry '" + name + "' is " + std::to_string(size) + " bytes, over the cap");
    if (e.compressed && size > kInflateRatioFloor && size / kMaxInflateRatio > e.comp_size) {
      f_.fail("zip entry '" + name + "' would inflate " + std::to_string(e.comp_size) + " bytes to " +
              std::to_string(size) + ", more than " + std::to_string(kMaxInflateRatio) +
              " times (refused as a decompression bomb)");
    }
    const zip_uint64_t index = e.index;
    std::unique_ptr<zip_file_t, ZipFileCloser> zf(zip_fopen_index(z_.get(), index, 0));
    if (!zf) f_.fail("cannot open zip entry '" + name + "': " + zip_strerror(z_.get()));
    std::vector<std::byte> buf(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < buf.size()) {
      const zip_int64_t r = zip_fread(zf.get(), buf.data() + done, buf.size() - done);
      if (r < 0) f_.fail("cannot read zip entry '" + name + "': " + zip_file_strerror(zf.get()));
      if (r == 0) f_.fail("zip entry '" + name + "' is shorter than its recorded size");
      done += static_cast<std::size_t>(r);
    }
    std::byte extra{};
    if (zip_fread(zf.get(), &extra, 1) != 0) f_.fail("zip entry '" + name + "' is longer than its recorded size");
    return buf;
  }

 private:
  const ByteSource& f_;
  std::unique_ptr<zip_t, ZipCloser> z_;
  std::map<std::string, ZipEntry> entries_;
};

class TensorCollector {
 public:
  TensorCollector(const ByteSource& f, const Archive& a, const SafeUnpickler& u, std::string prefix, bool big_endian,
                  std::uint64_t cap)
      : f_(f), a_(a), u_(u), prefix_(std::move(prefix)), big_endian_(big_endian), cap_(cap) {}

  void collect(std::uint32_t idx, const std::string& name, int depth) {
    if (depth > kMaxNesting) f_.fail("pickle nests containers more than 32 deep");
    const PyObject& o = u_.at(idx);
    using K = PyObject::Kind;
    if (o.kind == K::Tensor) {
      out_.push_back(materialise(o, name));
    } else if (o.kind == K::Dict) {
      for (std::size_t i = 0; i + 1 < o.items.size(); i += 2) {
        const PyObject& key = u_.at(o.items[i]);
        std::string k = key.kind == K::Str ? key.s : key.kind == K::Int ? std::to_string(key.i) : std::string("?");
        collect(o.items[i + 1], name.empty() ? k : name + "." + k, depth + 1);
      }
    } else if (o.kind == K::List || o.kind == K::Tuple) {
      for (std::size_t i = 0; i < o.items.size(); ++i) {
        collect(o.items[i], name.empty() ? std::to_string(i) : name + "." + std::to_string(i), depth + 1);
      }
    }
    // Scalars and strings next to tensors (e.g. state-dict metadata) are not tensors: skipped.
  }

  std::vector<DecodedTensor> take() { return std::move(out_); }

 private:
  // The storage's bytes, which must be exactly what its pickle declares (numel x element size).
  const std::vector<std::byte>& storage_bytes(const PyObject& storage) {
    const std::size_t item = dtype_size(storage.dtype);
    const auto numel = static_cast<std::uint64_t>(storage.i);
    if (numel > cap_ / item) {
      f_.fail("storage '" + storage.s + "' declares " + std::to_string(numel) + " elements, over the size cap");
    }
    const std::uint64_t expected = numel * item;
    auto it = storages_.find(storage.s);
    if (it == storages_.end()) {
      it = storages_.emplace(storage.s, a_.read_exactly(prefix_ + "data/" + storage.s, expected)).first;
    } else if (it->second.size() != expected) {
      f_.fail("storage '" + storage.s + "' is declared with two different sizes");
    }
    return it->second;
  }

  DecodedTensor materialise(const PyObject& t, const std::string& name) {
    const PyObject& st = u_.at(t.storage);
    const std::size_t item = dtype_size(st.dtype);
    const auto& bytes = storage_bytes(st);
    const std::uint64_t storage_numel = bytes.size() / item;
    DecodedTensor d;
    d.name = name;
    d.dtype = st.dtype;
    d.shape = t.size;
    const auto numel = checked_numel(t.size);
    const auto nbytes = checked_nbytes(t.size, st.dtype);
    if (!numel || !nbytes) f_.fail("tensor '" + name + "' has a shape that overflows or is negative");
    if (t.offset < 0) f_.fail("tensor '" + name + "' has a negative storage offset");
    // Highest element the view reaches must lie inside the storage.
    if (*numel > 0) {
      std::uint64_t last = static_cast<std::uint64_t>(t.offset);
      bool overflow = last >= storage_numel;
      for (std::size_t k = 0; k < t.size.size() && !overflow; ++k) {
        if (t.stride[k] < 0) f_.fail("tensor '" + name + "' has a negative stride");
        const auto extent = static_cast<std::uint64_t>(t.size[k] - 1);
        const auto stride = static_cast<std::uint64_t>(t.stride[k]);
        // Every partial sum stays below storage_numel, so overflow can only come from this step.
        if (stride != 0 && extent > (storage_numel - last) / stride) overflow = true;
        else last += extent * stride;
      }
      if (overflow || last >= storage_numel) {
        f_.fail("tensor '" + name + "' reaches past the end of its storage (" + std::to_string(storage_numel) +
                " elements)");
      }
    }
    d.data.resize(static_cast<std::size_t>(*nbytes));
    d.has_data = true;
    bool contiguous = true;
    std::int64_t expect = 1;
    for (std::size_t k = t.size.size(); k-- > 0;) {
      if (t.size[k] != 1 && t.stride[k] != expect) contiguous = false;
      expect *= t.size[k];
    }
    const std::byte* base = bytes.data();
    if (contiguous) {
      std::copy_n(base + static_cast<std::size_t>(t.offset) * item, d.data.size(), d.data.begin());
    } else {
      const std::size_t nd = t.size.size();
      std::vector<std::int64_t> idx(nd, 0);
      for (std::uint64_t e = 0; e < *numel; ++e) {
        std::uint64_t src = static_cast<std::uint64_t>(t.offset);
        for (std::size_t k = 0; k < nd; ++k) src += static_cast<std::uint64_t>(idx[k] * t.stride[k]);
        std::copy_n(base + src * item, item, d.data.begin() + static_cast<std::ptrdiff_t>(e * item));
        for (std::size_t k = nd; k-- > 0;) {
          if (++idx[k] < t.size[k]) break;
          idx[k] = 0;
        }
      }
    }
    if (big_endian_ && item > 1) {
      const std::size_t w = dtype_info(st.dtype).is_complex ? item / 2 : item;
      for (std::size_t i = 0; i + w <= d.data.size(); i += w) std::reverse(d.data.begin() + i, d.data.begin() + i + w);
    }
    return d;
  }

  const ByteSource& f_;
  const Archive& a_;
  const SafeUnpickler& u_;
  std::string prefix_;
  bool big_endian_;
  std::uint64_t cap_;
  std::map<std::string, std::vector<std::byte>> storages_;
  std::vector<DecodedTensor> out_;
};

std::vector<DecodedTensor> read_pth_archive(const ByteSource& f, const Archive& archive, std::uint64_t storage_cap) {
  std::string pkl;
  for (const auto& [name, info] : archive.entries()) {
    if (name.size() >= 8 && name.compare(name.size() - 8, 8, "data.pkl") == 0 &&
        (name.size() == 8 || name[name.size() - 9] == '/')) {
      if (!pkl.empty()) f.fail("zip holds more than one data.pkl");
      pkl = name;
    }
  }
  if (pkl.empty()) f.fail("zip holds no data.pkl: not a torch.save file");
  const std::string prefix = pkl.substr(0, pkl.size() - 8);  // keeps the trailing '/'
  bool big_endian = false;
  if (archive.entries().count(prefix + "byteorder") != 0) {
    const auto bo = archive.read(prefix + "byteorder", 16);
    const std::string s(reinterpret_cast<const char*>(bo.data()), bo.size());
    if (s.rfind("big", 0) == 0) big_endian = true;
  }
  const auto pickle = archive.read(pkl, kMaxPickle);
  SafeUnpickler u(std::string_view(reinterpret_cast<const char*>(pickle.data()), pickle.size()), f.name());
  const std::uint32_t root = u.run();
  TensorCollector c(f, archive, u, prefix, big_endian, storage_cap);
  c.collect(root, "", 0);
  auto out = c.take();
  if (out.empty()) f.fail("the pickle holds no tensor");
  return out;
}

}  // namespace

std::vector<DecodedTensor> read_pth(const std::filesystem::path& path, const ReadLimits& limits) {
  const InputFile f(path, limits);
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* source = zip_source_file_create(path.c_str(), 0, -1, &err);
  zip_error_fini(&err);
  const Archive archive(f, source);
  return read_pth_archive(f, archive, limits.max_file_size);
}

std::vector<DecodedTensor> read_pth(std::span<const std::byte> bytes, const std::string& display_path,
                                    const ReadLimits& limits) {
  const MemoryInput f(bytes, display_path, limits);
  // libzip reads the caller's buffer in place (freep = 0): nothing is copied.
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, nullptr);
  const Archive archive(f, source);
  return read_pth_archive(f, archive, limits.max_file_size);
}

}  // namespace aitdb::ingest
