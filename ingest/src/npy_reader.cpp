// NumPy .npy reader (docs/readers.md): magic, version, a Python-literal header dict, raw data.
// C and Fortran order, both byte orders; object, string and structured dtypes are refused as
// tensors. String arrays can be read as text instead (read_npy_strings, for FX dump arguments).
#include <algorithm>
#include <cctype>

#include "aitdb/ingest/layout.h"
#include "aitdb/ingest/readers.h"
#include "file_io.h"

namespace aitdb::ingest {
namespace {

constexpr std::size_t kMaxNpyHeader = 1U << 20;

struct NpyHeader {
  std::string descr;
  bool fortran = false;
  std::vector<std::int64_t> shape;
  bool has_descr = false, has_fortran = false, has_shape = false;
};

// A tiny parser for the dict literal numpy writes; it accepts exactly the value kinds numpy uses.
class DictParser {
 public:
  DictParser(const ByteSource& f, std::string_view s) : f_(f), s_(s) {}

  NpyHeader parse() {
    NpyHeader h;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = string_lit();
      expect(':');
      skip_ws();
      if (key == "descr") {
        if (peek() == '[') f_.fail("structured dtypes are not tensors (descr is a list of fields)");
        h.descr = string_lit();
        h.has_descr = true;
      } else if (key == "fortran_order") {
        h.fortran = bool_lit();
        h.has_fortran = true;
      } else if (key == "shape") {
        h.shape = tuple_lit();
        h.has_shape = true;
      } else {
        f_.fail("npy header has unexpected key '" + key + "'");
      }
      skip_ws();
      if (peek() == ',') ++i_;
    }
    ++i_;  // the closing '}'
    if (!h.has_descr || !h.has_fortran || !h.has_shape) f_.fail("npy header lacks descr, fortran_order or shape");
    // The header length must end exactly at the '\n' that follows the space padding: one byte too
    // short or too long would otherwise shift every value by a byte.
    for (; i_ + 1 < s_.size(); ++i_) {
      if (s_[i_] != ' ' && s_[i_] != '\t') f_.fail("npy header has bytes after its dict other than padding");
    }
    if (s_.empty() || s_.back() != '\n' || i_ >= s_.size()) {
      f_.fail("npy header does not end with '\\n' where its length says (the length field is off)");
    }
    return h;
  }

 private:
  char peek() {
    if (i_ >= s_.size()) f_.fail("npy header ends early");
    return s_[i_];
  }
  void skip_ws() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])) != 0) ++i_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) f_.fail(std::string("npy header: expected '") + c + "'");
    ++i_;
  }
  std::string string_lit() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') f_.fail("npy header: expected a string");
    const std::size_t end = s_.find(q, i_ + 1);
    if (end == std::string_view::npos) f_.fail("npy header: unterminated string");
    std::string v(s_.substr(i_ + 1, end - i_ - 1));
    i_ = end + 1;
    return v;
  }
  bool bool_lit() {
    if (s_.substr(i_, 4) == "True") {
      i_ += 4;
      return true;
    }
    if (s_.substr(i_, 5) == "False") {
      i_ += 5;
      return false;
    }
    f_.fail("npy header: fortran_order is not True/False");
  }
  std::vector<std::int64_t> tuple_lit() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (true) {
      skip_ws();
      if (peek() == ')') {
        ++i_;
        return dims;
      }
      if (peek() == '-') f_.fail("npy shape has a negative dimension");
      std::int64_t v = 0;
      bool any = false;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) != 0) {
        if (v > (INT64_MAX - 9) / 10) f_.fail("npy shape dimension overflows");
        v = v * 10 + (s_[i_] - '0');
        ++i_;
        any = true;
      }
      if (s_.substr(i_, 1) == "L") ++i_;  // Python 2 longs
      if (!any) f_.fail("npy shape is not a tuple of integers");
      dims.push_back(v);
      if (dims.size() > 64) f_.fail("npy shape has more than 64 dimensions");
      skip_ws();
      if (peek() == ',') ++i_;
    }
  }

  const ByteSource& f_;
  std::string_view s_;
  std::size_t i_ = 0;
};

struct Descr {
  DType dtype;
  bool big_endian;
};

Descr parse_descr(const ByteSource& f, const std::string& d) {
  if (d.empty()) f.fail("npy descr is empty");
  char order = '=';
  std::string_view rest = d;
  if (d[0] == '<' || d[0] == '>' || d[0] == '|' || d[0] == '=') {
    order = d[0];
    rest.remove_prefix(1);
  }
  if (rest.empty()) f.fail("npy descr '" + d + "' has no type");
  const char kind = rest[0];
  const std::string_view size = rest.substr(1);
  if (kind == 'O') f.fail("npy holds Python objects (descr '" + d + "'), which are not tensors and are never unpickled");
  if (kind == 'U' || kind == 'S' || kind == 'a') f.fail("npy holds strings (descr '" + d + "'), not a numeric tensor");
  if (kind == 'V') f.fail("npy holds raw void records (descr '" + d + "'), whose element type is unknown");
  if (kind == 'M' || kind == 'm') f.fail("npy holds datetimes (descr '" + d + "'), not a numeric tensor");
  std::string key(1, kind);
  key += size;
  if (const auto t = dtype_from_numpy_code(key)) return {*t, order == '>'};
  f.fail("unsupported npy descr '" + d + "'");
}

void byteswap(std::vector<std::byte>& data, std::size_t width) {
  for (std::size_t i = 0; i + width <= data.size(); i += width) std::reverse(data.begin() + i, data.begin() + i + width);
}

// Fortran (column-major) to C (row-major) order.
std::vector<std::byte> fortran_to_c(const std::vector<std::byte>& src, const std::vector<std::int64_t>& shape,
                                    std::size_t item) {
  std::vector<std::byte> dst(src.size());
  const std::size_t nd = shape.size();
  std::vector<std::uint64_t> fstride(nd, 1);
  for (std::size_t k = 1; k < nd; ++k) fstride[k] = fstride[k - 1] * static_cast<std::uint64_t>(shape[k - 1]);
  std::vector<std::int64_t> idx(nd, 0);
  const std::size_t numel = src.size() / item;
  for (std::size_t c = 0; c < numel; ++c) {
    std::uint64_t fi = 0;
    for (std::size_t k = 0; k < nd; ++k) fi += static_cast<std::uint64_t>(idx[k]) * fstride[k];
    std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(fi * item), item, dst.begin() + static_cast<std::ptrdiff_t>(c * item));
    for (std::size_t k = nd; k-- > 0;) {  // increment the C-order multi-index
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return dst;
}

// Magic, version and header dict; data_start is where the array bytes begin.
struct NpyHead {
  NpyHeader header;
  std::uint64_t data_start = 0;
};

NpyHead read_npy_head(const ByteSource& f) {
  if (f.size() < 10) f.fail("truncated: too short for an npy header");
  const auto pre = f.read_vec(0, 10);
  if (std::string(reinterpret_cast<const char*>(pre.data()), 6) != "\x93NUMPY") f.fail("not an npy file (bad magic)");
  const auto major = std::to_integer<int>(pre[6]);
  std::uint64_t header_len = 0;
  std::uint64_t header_start = 0;
  if (major == 1) {
    header_len = load_u16le(pre.data() + 8);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (f.size() < 12) f.fail("truncated: too short for an npy v2 header");
    header_len = load_u32le(f.read_vec(8, 4).data());
    header_start = 12;
  } else {
    f.fail("unsupported npy version " + std::to_string(major));
  }
  if (header_len > kMaxNpyHeader) f.fail("npy header length " + std::to_string(header_len) + " is implausibly large");
  const std::string header = f.read_string(header_start, static_cast<std::size_t>(header_len));
  return {DictParser(f, header).parse(), header_start + header_len};
}

std::vector<DecodedTensor> read_npy_from(const ByteSource& f) {
  const NpyHead head = read_npy_head(f);
  const NpyHeader& h = head.header;
  const Descr d = parse_descr(f, h.descr);

  DecodedTensor t;
  t.dtype = d.dtype;
  t.shape = h.shape;
  const auto need = checked_nbytes(t.shape, d.dtype);
  if (!need) f.fail("npy shape overflows: the tensor would exceed 2^63 bytes");
  const std::uint64_t data_start = head.data_start;
  const std::uint64_t available = f.size() - data_start;
  if (available < *need) {
    f.fail("truncated payload: shape needs " + std::to_string(*need) + " bytes, file has " + std::to_string(available));
  }
  if (available > *need) t.flags = "trailing_bytes=" + std::to_string(available - *need);
  t.data = f.read_vec(data_start, static_cast<std::size_t>(*need));
  t.has_data = true;
  const std::size_t item = dtype_size(d.dtype);
  if (d.big_endian && item > 1) byteswap(t.data, dtype_info(d.dtype).is_complex ? item / 2 : item);
  if (h.fortran && t.shape.size() > 1) t.data = fortran_to_c(t.data, t.shape, item);
  std::vector<DecodedTensor> out;
  out.push_back(std::move(t));
  return out;
}

// UTF-32LE code points (numpy's 'U') to UTF-8; trailing NULs are numpy's padding.
std::string utf32le_to_utf8(const ByteSource& f, const std::byte* p, std::size_t chars) {
  while (chars > 0 && load_u32le(p + (chars - 1) * 4) == 0) --chars;
  std::string out;
  for (std::size_t i = 0; i < chars; ++i) {
    const std::uint32_t c = load_u32le(p + i * 4);
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) f.fail("npy string holds an invalid code point");
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6U));
      out += static_cast<char>(0x80 | (c & 0x3FU));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12U));
      out += static_cast<char>(0x80 | ((c >> 6U) & 0x3FU));
      out += static_cast<char>(0x80 | (c & 0x3FU));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18U));
      out += static_cast<char>(0x80 | ((c >> 12U) & 0x3FU));
      out += static_cast<char>(0x80 | ((c >> 6U) & 0x3FU));
      out += static_cast<char>(0x80 | (c & 0x3FU));
    }
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::string>> read_npy_strings(const std::filesystem::path& path, const ReadLimits& limits) {
  const InputFile f(path, limits);
  const NpyHead head = read_npy_head(f);
  std::string_view descr = head.header.descr;
  if (!descr.empty() && (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=')) {
    descr.remove_prefix(1);
  }
  if (descr.empty() || (descr[0] != 'U' && descr[0] != 'S')) return std::nullopt;
  const bool wide = descr[0] == 'U';
  if (head.header.descr[0] == '>' && wide) f.fail("big-endian npy strings are not supported");
  const auto chars = parse_int(std::string(descr.substr(1)));
  if (!chars || *chars <= 0 || *chars > (1 << 20)) f.fail("npy string descr '" + head.header.descr + "' is not plausible");
  const auto numel = checked_numel(head.header.shape);
  const std::uint64_t item = static_cast<std::uint64_t>(*chars) * (wide ? 4 : 1);
  if (!numel || *numel > (f.size() - std::min(f.size(), head.data_start)) / item) {
    f.fail("truncated payload: npy string array is larger than the file");
  }
  std::vector<std::string> out;
  const auto data = f.read_vec(head.data_start, static_cast<std::size_t>(*numel * item));
  for (std::uint64_t i = 0; i < *numel; ++i) {
    const std::byte* p = data.data() + i * item;
    if (wide) {
      out.push_back(utf32le_to_utf8(f, p, static_cast<std::size_t>(*chars)));
    } else {
      std::string s(reinterpret_cast<const char*>(p), static_cast<std::size_t>(item));
      s.erase(s.find_last_not_of('\0') + 1);
      out.push_back(std::move(s));
    }
  }
  return out;
}

std::vector<DecodedTensor> read_npy(const std::filesystem::path& path, const ReadLimits& limits) {
  return read_npy_from(InputFile(path, limits));
}

std::vector<DecodedTensor> read_npy(std::span<const std::byte> bytes, const std::string& display_path,
                                    const ReadLimits& limits) {
  return read_npy_from(MemoryInput(bytes, display_path, limits));
}

}  // namespace aitdb::ingest
