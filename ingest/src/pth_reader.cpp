// torch.save zip reader (formats.md §9.2): libzip walks the central directory (torch writes
// zero sizes in local headers), the safe unpickler reads data.pkl, and tensors are gathered from
// their storages honouring offset and strides (a saved view carries its whole base storage).
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

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

class Archive {
 public:
  Archive(const InputFile& f, const std::filesystem::path& path) : f_(f) {
    int err = 0;
    z_.reset(zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
    if (!z_) {
      zip_error_t ze;
      zip_error_init_with_code(&ze, err);
      const std::string msg = zip_error_strerror(&ze);
      zip_error_fini(&ze);
      f_.fail("not a readable zip archive: " + msg);
    }
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
      entries_[name] = {static_cast<zip_uint64_t>(i), st.size};
    }
  }

  [[nodiscard]] const std::map<std::string, std::pair<zip_uint64_t, zip_uint64_t>>& entries() const { return entries_; }

  std::vector<std::byte> read(const std::string& name, std::uint64_t cap) const {
    const auto it = entries_.find(name);
    if (it == entries_.end()) f_.fail("zip entry '" + name + "' is missing");
    const auto [index, size] = it->second;
    if (size > cap) f_.fail("zip entry '" + name + "' is " + std::to_string(size) + " bytes, over the cap");
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
  const InputFile& f_;
  std::unique_ptr<zip_t, ZipCloser> z_;
  std::map<std::string, std::pair<zip_uint64_t, zip_uint64_t>> entries_;
};

class TensorCollector {
 public:
  TensorCollector(const InputFile& f, const Archive& a, const SafeUnpickler& u, std::string prefix, bool big_endian,
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
  const std::vector<std::byte>& storage_bytes(const std::string& key) {
    auto it = storages_.find(key);
    if (it == storages_.end()) it = storages_.emplace(key, a_.read(prefix_ + "data/" + key, cap_)).first;
    return it->second;
  }

  DecodedTensor materialise(const PyObject& t, const std::string& name) {
    const PyObject& st = u_.at(t.storage);
    const std::size_t item = dtype_size(st.dtype);
    const auto& bytes = storage_bytes(st.s);
    if (bytes.size() % item != 0) f_.fail("storage '" + st.s + "' is not a whole number of elements");
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

  const InputFile& f_;
  const Archive& a_;
  const SafeUnpickler& u_;
  std::string prefix_;
  bool big_endian_;
  std::uint64_t cap_;
  std::map<std::string, std::vector<std::byte>> storages_;
  std::vector<DecodedTensor> out_;
};

}  // namespace

std::vector<DecodedTensor> read_pth(const std::filesystem::path& path, const ReadLimits& limits) {
  const InputFile f(path, limits);
  const Archive archive(f, path);
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
  SafeUnpickler u(std::string_view(reinterpret_cast<const char*>(pickle.data()), pickle.size()), path.string());
  const std::uint32_t root = u.run();
  TensorCollector c(f, archive, u, prefix, big_endian, limits.max_file_size);
  c.collect(root, "", 0);
  auto out = c.take();
  if (out.empty()) f.fail("the pickle holds no tensor");
  return out;
}

}  // namespace aitdb::ingest
