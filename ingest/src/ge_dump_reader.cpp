// GE dump file reader (docs/formats_graph_mode.md §1.2): u64 LE header length H, H bytes of the
// DumpData protobuf (parsed by Debian's libprotobuf from our own ge_dump.proto), then the raw bytes
// of every input, every output and every buffer, in that order, whatever order the header lists
// them in. Every length is checked against the file before a tensor buffer is allocated.
#include <cstring>
#include <functional>

#include "aitdb/ingest/ge_dump.h"
#include "aitdb/schema/errors.h"
#include "file_io.h"
#include "fractal_nz.h"
#include "ge_dump.pb.h"
#include "ge_dump_codes.h"

namespace aitdb::ingest {
namespace {

namespace pb = toolkit::dumpdata;

constexpr std::uint64_t kLengthBytes = 8;
constexpr std::uint64_t kMaxHeader = 64ULL << 20U;  // real headers are a few hundred bytes
constexpr int kMaxEntries = 1 << 16;                // inputs + outputs + buffers
constexpr int kMaxDims = 64;
constexpr std::uint64_t kUnknownDim = static_cast<std::uint64_t>(INT64_MAX);

// Reads n bytes at an offset inside the data region (the bytes after the header).
using PayloadFetch = std::function<std::vector<std::byte>(std::uint64_t offset, std::size_t n)>;

class GeDumpDecoder {
 public:
  GeDumpDecoder(std::string path, std::uint64_t payload_size, PayloadFetch fetch)
      : path_(std::move(path)), payload_size_(payload_size), fetch_(std::move(fetch)) {}

  GeDump decode(std::span<const std::byte> header) {
    pb::DumpData msg;
    if (!msg.ParseFromArray(header.data(), static_cast<int>(header.size()))) {
      fail("header of " + std::to_string(header.size()) + " bytes is not a DumpData protobuf message");
    }
    if (msg.input_size() + msg.output_size() + msg.buffer_size() > kMaxEntries) {
      fail("header lists more than " + std::to_string(kMaxEntries) + " inputs, outputs and buffers");
    }
    check_sizes(msg);
    GeDump d;
    d.version = msg.version();
    d.dump_time = msg.dump_time();
    d.op_name = msg.op_name();
    std::uint64_t offset = 0;
    for (int i = 0; i < msg.input_size(); ++i) {
      const auto& in = msg.input(i);
      d.inputs.push_back(decode_tensor(true, i, in.data_type(), in.format(), in.shape(),
                                       in.has_original_shape() ? &in.original_shape() : nullptr, in.size(), offset));
      offset += in.size();
    }
    for (int i = 0; i < msg.output_size(); ++i) {
      const auto& out = msg.output(i);
      GeDumpTensor t = decode_tensor(false, i, out.data_type(), out.format(), out.shape(),
                                     out.has_original_shape() ? &out.original_shape() : nullptr, out.size(), offset);
      if (out.has_original_op()) {
        t.original_op_name = out.original_op().name();
        t.original_output_index = out.original_op().output_index();
      }
      d.outputs.push_back(std::move(t));
      offset += out.size();
    }
    d.buffer_count = static_cast<std::size_t>(msg.buffer_size());
    d.buffer_bytes = payload_size_ - offset;
    return d;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const { throw FormatError(path_, reason); }

  // The data region must be exactly the listed sizes, in full, with no inline legacy data.
  void check_sizes(const pb::DumpData& msg) const {
    std::uint64_t total = 0;
    const auto add = [&](const std::string& what, std::uint64_t size, const std::string& inline_data) {
      if (!inline_data.empty()) fail(what + " carries inline data (legacy dump layout), which is not supported");
      if (size > payload_size_ - std::min(total, payload_size_)) {
        fail(what + " size " + std::to_string(size) + " runs past the end of the file (" +
             std::to_string(payload_size_) + " data bytes after the header)");
      }
      total += size;
    };
    for (int i = 0; i < msg.input_size(); ++i)
      add("input " + std::to_string(i), msg.input(i).size(), msg.input(i).data());
    for (int i = 0; i < msg.output_size(); ++i) {
      add("output " + std::to_string(i), msg.output(i).size(), msg.output(i).data());
    }
    for (int i = 0; i < msg.buffer_size(); ++i) {
      add("buffer " + std::to_string(i), msg.buffer(i).size(), msg.buffer(i).data());
    }
    if (total != payload_size_) {
      fail("sizes of inputs, outputs and buffers add up to " + std::to_string(total) + " bytes but " +
           std::to_string(payload_size_ - total) + " more bytes follow the header");
    }
  }

  // Device dims beyond INT64_MAX are GE's unknown (dynamic) dims: no data can be laid out by them.
  std::vector<std::int64_t> device_dims(const std::string& what, const pb::Shape& s) const {
    if (s.dim_size() > kMaxDims) fail(what + " shape has more than " + std::to_string(kMaxDims) + " dims");
    std::vector<std::int64_t> dims;
    for (const auto d : s.dim()) {
      if (d > kUnknownDim) fail(what + " device shape has an unknown (dynamic) dim");
      dims.push_back(static_cast<std::int64_t>(d));
    }
    return dims;
  }

  // The host shape is dropped when it has unknown dims, as msprobe does.
  std::optional<std::vector<std::int64_t>> original_dims(const std::string& what, const pb::Shape* s) const {
    if (s == nullptr) return std::nullopt;
    if (s->dim_size() > kMaxDims) fail(what + " original shape has more than " + std::to_string(kMaxDims) + " dims");
    std::vector<std::int64_t> dims;
    for (const auto d : s->dim()) {
      if (d > kUnknownDim) return std::nullopt;
      dims.push_back(static_cast<std::int64_t>(d));
    }
    if (!checked_numel(dims)) fail(what + " original shape " + shape_to_json(dims) + " overflows");
    return dims;
  }

  GeDumpTensor decode_tensor(bool is_input, int index, int dtype_code, int format_code, const pb::Shape& shape,
                             const pb::Shape* original, std::uint64_t size, std::uint64_t offset) const {
    const std::string what = (is_input ? "input " : "output ") + std::to_string(index);
    GeDumpTensor t;
    t.is_input = is_input;
    t.index = index;
    t.ge_dtype = dtype_code;
    t.ge_format = format_code;
    t.size = size;
    t.device_shape = device_dims(what, shape);
    t.original_shape = original_dims(what, original);
    const auto dtype = dtype_from_ge_code(dtype_code);
    if (!dtype) {
      t.refusal = what + " has dtype " + ge_dtype_name(dtype_code) + ", which aitdb does not store";
      return t;
    }
    const auto need = checked_nbytes(t.device_shape, *dtype);
    if (!need) fail(what + " shape " + shape_to_json(t.device_shape) + " overflows");
    if (*need > size) {
      fail(what + " shape " + shape_to_json(t.device_shape) + " of " + ge_dtype_name(dtype_code) + " needs " +
           std::to_string(*need) + " bytes but its size is " + std::to_string(size));
    }
    // Only the low byte is the primary format; GE may pack a sub-format above it.
    const int primary = format_code & 0xFF;
    const GeLayoutKind kind = ge_layout_kind(primary);
    if (kind == GeLayoutKind::Unsupported) {
      t.refusal = what + " is in device format " + ge_format_name(primary) + ", which aitdb cannot convert to ND";
      return t;
    }
    if (kind == GeLayoutKind::FractalNz && !t.original_shape) {
      t.refusal = what + " is FRACTAL_NZ without a known original shape to convert it to";
      return t;
    }
    DecodedTensor dt;
    dt.name = (is_input ? "input." : "output.") + std::to_string(index);
    dt.dtype = dtype;
    dt.has_data = true;
    if (size > *need) dt.flags = "padding_bytes=" + std::to_string(size - *need);
    std::vector<std::byte> device = fetch_(offset, static_cast<std::size_t>(*need));
    if (kind == GeLayoutKind::FractalNz) {
      const std::string why = fractal_nz_to_nd(device, t.device_shape, *t.original_shape, dtype_size(*dtype), dt.data);
      recycle_buffer(std::move(device));
      if (!why.empty()) {
        t.refusal = what + ": " + why;
        return t;
      }
      dt.shape = *t.original_shape;
      dt.format = 2;  // ND
      dt.flags += std::string(dt.flags.empty() ? "" : ",") + "converted_from=FRACTAL_NZ";
    } else {
      // Plain layouts: the bytes already are the tensor; the host shape names it when it agrees.
      const bool host_fits = t.original_shape && checked_numel(*t.original_shape) == checked_numel(t.device_shape);
      dt.shape = host_fits ? *t.original_shape : t.device_shape;
      dt.format = primary;
      dt.data = std::move(device);
    }
    t.tensor = std::move(dt);
    return t;
  }

  std::string path_;
  std::uint64_t payload_size_;
  PayloadFetch fetch_;
};

// Checks the 8-byte length against the file; returns H.
std::uint64_t header_length(const std::string& path, std::uint64_t file_size, const std::byte* first8) {
  if (file_size < kLengthBytes) throw FormatError(path, "truncated: too short for the 8-byte header length");
  const std::uint64_t h = load_u64le(first8);
  if (h > file_size - kLengthBytes) {
    throw FormatError(path, "header length " + std::to_string(h) + " runs past the end of the file (" +
                                std::to_string(file_size) + " bytes)");
  }
  if (h > kMaxHeader) throw FormatError(path, "header length " + std::to_string(h) + " is implausibly large");
  return h;
}

}  // namespace

GeDump read_ge_dump(std::span<const std::byte> file, const std::string& display_path) {
  const std::uint64_t h = header_length(display_path, file.size(), file.data());
  const auto payload = file.subspan(static_cast<std::size_t>(kLengthBytes + h));
  GeDumpDecoder dec(display_path, payload.size(), [payload](std::uint64_t offset, std::size_t n) {
    const auto part = payload.subspan(static_cast<std::size_t>(offset), n);
    return std::vector<std::byte>(part.begin(), part.end());
  });
  return dec.decode(file.subspan(static_cast<std::size_t>(kLengthBytes), static_cast<std::size_t>(h)));
}

GeDump read_ge_dump(const std::filesystem::path& path, const ReadLimits& limits) {
  const InputFile f(path, limits);
  std::byte first8[kLengthBytes] = {};
  if (f.size() >= kLengthBytes) f.read_at(0, kLengthBytes, first8);
  const std::uint64_t h = header_length(f.name(), f.size(), first8);
  const std::vector<std::byte> header = f.read_vec(kLengthBytes, static_cast<std::size_t>(h));
  const std::uint64_t start = kLengthBytes + h;
  GeDumpDecoder dec(f.name(), f.size() - start,
                    [&f, start](std::uint64_t offset, std::size_t n) { return f.read_vec(start + offset, n); });
  return dec.decode(header);
}

bool looks_like_ge_dump(std::span<const std::byte> head, std::uint64_t file_size) {
  if (head.size() < kLengthBytes + 1 || file_size < kLengthBytes + 2) return false;
  const std::uint64_t h = load_u64le(head.data());
  if (h < 2 || h > file_size - kLengthBytes || h > kMaxHeader) return false;
  // The first key of a DumpData message: field 1..6 with its wire type (LEN, or VARINT for field 2).
  const auto tag = std::to_integer<unsigned>(head[kLengthBytes]);
  return tag == 0x0a || tag == 0x10 || tag == 0x1a || tag == 0x22 || tag == 0x2a || tag == 0x32;
}

}  // namespace aitdb::ingest
