#include "aitdb/query/tensor_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iomanip>
#include <sstream>

#include "aitdb/schema/errors.h"
#include "aitdb/schema/tensor_formats.h"

namespace aitdb::query {
namespace fs = std::filesystem;
namespace {

std::string opt(const std::optional<std::string>& s) { return s ? *s : "-"; }
std::string opt(const std::optional<std::int64_t>& v) { return v ? std::to_string(*v) : "-"; }
std::string num(const std::optional<double>& v) {
  if (!v) return "-";
  std::ostringstream o;
  o << std::setprecision(9) << *v;
  return o.str();
}

std::string describe_name(const TensorRow& t) {
  return "tensor " + std::to_string(t.id) + (t.rel_path ? " (" + *t.rel_path + ")" : "");
}

// The row's shape and dtype must describe its blob exactly: a damaged row would otherwise give a
// file whose header promises more (or fewer) values than it holds, or values read past a shape.
void check_row_matches_blob(const TensorRow& t, std::size_t blob_bytes) {
  if (!t.shape || !t.dtype) return;
  const auto need = checked_nbytes(*t.shape, *t.dtype);
  if (!need || *need != blob_bytes) {
    throw IntegrityError(describe_name(t), "shape " + shape_to_json(*t.shape) + " x " +
                                               std::string(dtype_name(*t.dtype)) + " needs " +
                                               (need ? std::to_string(*need) : std::string("more than 2^63")) +
                                               " bytes but its blob holds " + std::to_string(blob_bytes));
  }
}

// Writes a whole file with O_EXCL so an existing file is never overwritten.
void write_new_file(const fs::path& out, const std::string& header, const std::byte* data, std::size_t n) {
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (errno == EEXIST) throw Error(ErrorKind::Usage, out.string(), "already exists; not overwritten");
    throw IoError(out.string(), std::string("cannot create: ") + std::strerror(errno));
  }
  const auto write_all = [&](const void* p, std::size_t len) {
    const auto* c = static_cast<const char*>(p);
    while (len > 0) {
      const ssize_t w = ::write(fd, c, len);
      if (w < 0) {
        if (errno == EINTR) continue;
        const std::string err = std::strerror(errno);
        ::close(fd);
        ::unlink(out.c_str());
        throw IoError(out.string(), "write failed: " + err);
      }
      c += w;
      len -= static_cast<std::size_t>(w);
    }
  };
  write_all(header.data(), header.size());
  write_all(data, n);
  if (::close(fd) != 0) throw IoError(out.string(), std::string("close failed: ") + std::strerror(errno));
}

}  // namespace

namespace {

// The one tensor a report path names; nullopt when none does.
std::optional<TensorRow> tensor_at_report_path(const Store& store, const std::string& spec) {
  // The path exactly as printed, then as typed relative to here, each also split at its last '#'
  // into PATH#NAME (a path may itself hold '#').
  std::vector<std::pair<std::string, std::string>> tries{{spec, ""}};
  if (const auto hash = spec.rfind('#'); hash != std::string::npos)
    tries.emplace_back(spec.substr(0, hash), spec.substr(hash + 1));
  if (!spec.empty() && spec.front() != '/') {
    std::error_code ec;
    const auto n = tries.size();
    for (std::size_t i = 0; i < n; ++i) {
      const auto abs = fs::weakly_canonical(fs::absolute(tries[i].first, ec), ec);
      if (!ec) tries.emplace_back(abs.string(), tries[i].second);
    }
  }
  for (const auto& [path, name] : tries) {
    const auto found = store.find_tensors_by_report_path(path, name);
    if (found.empty()) continue;
    if (found.size() == 1) return found.front();
    std::string ids;
    for (std::size_t i = 0; i < found.size() && i < 10; ++i) ids += (i ? ", " : "") + std::to_string(found[i].id);
    throw UsageError("'" + spec + "' names " + std::to_string(found.size()) + " tensors (ids " + ids +
                     (found.size() > 10 ? ", ..." : "") +
                     "): give the tensor id, RUN:PATH, or PATH#NAME for one tensor of a multi-tensor file");
  }
  return std::nullopt;
}

}  // namespace

TensorRow resolve_tensor(const Store& store, const std::string& spec) {
  std::int64_t id = 0;
  const auto r = std::from_chars(spec.data(), spec.data() + spec.size(), id);
  if (r.ec == std::errc() && r.ptr == spec.data() + spec.size()) {
    if (auto t = store.get_tensor(id)) return *t;
    throw NotFoundError(spec, "no tensor with this id");
  }
  // RUN:PATH[#NAME] when RUN is a stored run.
  const auto colon = spec.find(':');
  if (colon != std::string::npos) {
    const std::string run = spec.substr(0, colon);
    std::string path = spec.substr(colon + 1);
    std::string name;
    if (const auto hash = path.find('#'); hash != std::string::npos) {
      name = path.substr(hash + 1);
      path.resize(hash);
    }
    if (store.find_run(run)) {
      if (auto t = store.find_tensor(run, path, name)) return *t;
      throw NotFoundError(spec, "no tensor at this path in run '" + run + "'");
    }
  }
  // A path as the report CSV prints it.
  if (auto t = tensor_at_report_path(store, spec)) return *t;
  if (colon != std::string::npos && spec.front() != '/') throw NotFoundError(spec.substr(0, colon), "no such run");
  throw NotFoundError(spec, "no tensor with this id, RUN:PATH or report path");
}

void describe_tensor(const Store& store, const TensorRow& t, std::size_t values, std::ostream& out) {
  const auto run = store.find_run_by_id(t.run_id);
  out << "tensor      " << t.id << "\n";
  out << "run         " << (run ? run->name : "?") << "\n";
  out << "file        " << opt(t.rel_path) << "\n";
  out << "kind        " << t.source_kind << "\n";
  out << "rank        " << opt(t.rank_key) << "  device " << opt(t.device_id) << "  pid " << opt(t.pid) << "\n";
  // One meaning of "token" across commands: the logical one; the folder on disk is named as such.
  out << "token       " << opt(t.op_node_id ? store.logical_token(*t.op_node_id) : std::nullopt) << "  (folder "
      << opt(t.token) << ")\n";
  out << "op          " << opt(t.op_path) << "  " << opt(t.op_names) << "\n";
  out << "io          " << opt(t.phase) << " " << opt(t.io) << " " << opt(t.io_index)
      << (t.io_subindex ? "_" + std::to_string(*t.io_subindex) : "") << (t.io_name ? "  name " + *t.io_name : "")
      << "\n";
  out << "dtype       " << (t.dtype ? std::string(dtype_name(*t.dtype)) : "-") << "  format " << opt(t.format) << "\n";
  out << "shape       " << (t.shape ? shape_to_json(*t.shape) : "-") << "  numel " << opt(t.numel) << "  bytes "
      << opt(t.nbytes) << "\n";
  if (t.md5) out << "md5         " << *t.md5 << "\n";
  if (t.alias_of) out << "alias of    " << *t.alias_of << "\n";
  if (t.flags) out << "flags       " << *t.flags << "\n";
  out << "stats       min " << num(t.stats.min) << "  max " << num(t.stats.max) << "  mean " << num(t.stats.mean)
      << "  std " << num(t.stats.std) << "  l2norm " << num(t.stats.l2norm) << "  (" << opt(t.stats_source) << ")\n";
  if (t.stats_source == std::optional<std::string>("computed")) {
    out << "counts      nan " << t.stats.nan_count << "  inf " << t.stats.inf_count << "  zero " << t.stats.zero_count
        << "\n";
  }
  if (!t.blob_key) {
    out << "data        not stored\n";
    return;
  }
  out << "blob        " << t.blob_key->hex() << "\n";
  if (values == 0 || !t.dtype) return;
  const auto bytes = store.read_blob(*t.blob_key, describe_name(t));
  check_row_matches_blob(t, bytes.size());
  const std::size_t n = std::min<std::size_t>(values, bytes.size() / dtype_size(*t.dtype));
  std::vector<double> v(scalar_count(*t.dtype, n));
  to_double(*t.dtype, bytes.data(), n, v.data());
  out << "values      [";
  for (std::size_t i = 0; i < v.size(); ++i) {
    out << (i ? ", " : "") << num(v[i]);
  }
  out << (n < bytes.size() / dtype_size(*t.dtype) ? ", ...]" : "]") << "\n";
}

ExportFormat export_format_for(const fs::path& out) {
  const auto ext = out.extension().string();
  if (ext == ".npy") return ExportFormat::Npy;
  if (ext == ".bin") return ExportFormat::AtbBin;
  throw UsageError("output must end in .npy or .bin, got '" + out.string() + "'");
}

DType export_tensor(const Store& store, const TensorRow& t, const fs::path& out, ExportFormat fmt, bool as_float32) {
  if (!t.blob_key || !t.dtype || !t.shape) {
    throw NotFoundError(describe_name(t), "holds no tensor bytes (stats-only, placeholder or --stats-only ingest)");
  }
  auto bytes = store.read_blob(*t.blob_key, describe_name(t));
  check_row_matches_blob(t, bytes.size());
  DType dtype = *t.dtype;
  const bool numpy_lacks_dtype = fmt == ExportFormat::Npy && dtype_info(dtype).numpy_descr.empty();
  if ((as_float32 || numpy_lacks_dtype) && dtype != DType::Float32) {
    if (dtype_info(dtype).is_complex) throw UsageError("complex tensors cannot be exported as float32");
    const std::size_t n = bytes.size() / dtype_size(dtype);
    std::vector<std::byte> conv(n * 4);
    std::vector<float> tmp(n);
    to_float(dtype, bytes.data(), n, tmp.data());
    std::memcpy(conv.data(), tmp.data(), conv.size());
    bytes = std::move(conv);
    dtype = DType::Float32;
  }
  const std::string header =
      fmt == ExportFormat::Npy
          ? formats::npy_header(dtype, *t.shape)
          : formats::atb_bin_header(dtype_info(dtype).acl_code, t.format.value_or(2), *t.shape, bytes.size());
  write_new_file(out, header, bytes.data(), bytes.size());
  return dtype;
}

}  // namespace aitdb::query
