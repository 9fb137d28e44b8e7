// ATB TensorBinFile reader (docs/readers.md): text header "name=value" lines up to "$End=1",
// then the payload. Handles the canonical, minimal, stats-only, alias and appended variants.
#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <map>

#include "aitdb/ingest/readers.h"
#include "file_io.h"

namespace aitdb::ingest {
namespace {

constexpr std::size_t kMaxHeaderLines = 8000;     // Mki's limit
constexpr std::size_t kMaxHeaderBytes = 1U << 20;  // no genuine header comes close

struct Header {
  std::map<std::string, std::string> attrs;  // later duplicates win, as in msit
  std::uint64_t payload_start = 0;
};

// Parses one header starting at `offset`; throws if "$End" is not found.
Header parse_header(const ByteSource& f, std::uint64_t offset) {
  const std::size_t window = static_cast<std::size_t>(std::min<std::uint64_t>(kMaxHeaderBytes, f.size() - offset));
  const std::string text = f.read_string(offset, window);
  Header h;
  std::size_t pos = 0;
  for (std::size_t lines = 0;; ++lines) {
    if (lines >= kMaxHeaderLines) f.fail("header has more than 8000 lines");
    const std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) f.fail("truncated header: no $End line");
    const std::string_view line(text.data() + pos, nl - pos);
    for (const char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u > 0x7E) f.fail("header line " + std::to_string(lines + 1) + " is not text");
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      f.fail("header line " + std::to_string(lines + 1) + " is not 'name=value'");
    }
    const std::string name(line.substr(0, eq));
    if (name.empty()) f.fail("header line " + std::to_string(lines + 1) + " has an empty name");
    pos = nl + 1;
    if (name == "$End" || name == "$END") {
      h.payload_start = offset + pos;
      return h;
    }
    h.attrs[name] = std::string(line.substr(eq + 1));
  }
}

bool parse_i64(std::string_view s, std::int64_t& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

bool parse_u64(std::string_view s, std::uint64_t& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && !s.empty();
}

std::optional<double> parse_stat(const std::string& s) {
  if (s.empty() || s == "N/A") return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

DType parse_dtype(const ByteSource& f, const std::string& v) {
  std::int64_t code = 0;
  if (parse_i64(v, code)) {
    if (auto d = dtype_from_acl_code(static_cast<int>(code))) return *d;
    f.fail("unsupported dtype code " + acl_code_description(static_cast<int>(code)));
  }
  if (auto d = dtype_from_acl_name(v)) return *d;
  if (v == "uint32") return DType::UInt32;
  f.fail("unknown dtype '" + v + "'");
}

int parse_format(const ByteSource& f, const std::string& v) {
  static const std::map<std::string, int, std::less<>> kNames = {
      {"undefined", -1}, {"nchw", 0},       {"nhwc", 1},         {"nd", 2},
      {"nc1hwc0", 3},    {"fractal_z", 4},  {"nc1hwc0_c04", 12}, {"hwcn", 16},
      {"ndhwc", 27},     {"fractal_nz", 29}, {"ncdhw", 30},      {"ndc1hwc0", 32},
      {"fractal_z_3d", 33}, {"nc", 35},     {"ncl", 47},         {"fractal_nz_c0_16", 50},
      {"fractal_nz_c0_32", 51}};
  std::int64_t code = 0;
  if (parse_i64(v, code) && code >= -1 && code < 256) return static_cast<int>(code);
  const auto it = kNames.find(v);
  if (it == kNames.end()) f.fail("unknown format '" + v + "'");
  return it->second;
}

std::vector<std::int64_t> parse_dims(const ByteSource& f, const std::string& v) {
  std::vector<std::int64_t> dims;
  if (v.empty()) return dims;  // 0-d scalar
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = v.find(',', start);
    const std::string_view part(v.data() + start, (comma == std::string::npos ? v.size() : comma) - start);
    std::int64_t d = 0;
    if (!parse_i64(part, d)) f.fail("dims '" + v + "' is not a comma-separated list of integers");
    if (d < 0) f.fail("dims '" + v + "' has a negative dimension");
    dims.push_back(d);
    if (dims.size() > 64) f.fail("dims has more than 64 dimensions");
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return dims;
}

struct Record {
  DecodedTensor tensor;
  std::uint64_t end = 0;  // offset just past this record's payload
};

Record read_record(const ByteSource& f, std::uint64_t offset) {
  const Header h = parse_header(f, offset);
  const auto& a = h.attrs;
  const auto get = [&](const char* k) -> const std::string* {
    const auto it = a.find(k);
    return it == a.end() ? nullptr : &it->second;
  };
  Record r;
  DecodedTensor& t = r.tensor;
  const std::string* dtype = get("dtype");
  if (dtype == nullptr) f.fail("header has no dtype");
  t.dtype = parse_dtype(f, *dtype);
  if (const auto* fmt = get("format")) t.format = parse_format(f, *fmt);
  const std::string* dims = get("dims");
  if (dims == nullptr) f.fail("header has no dims");
  t.shape = parse_dims(f, *dims);
  const auto need = checked_nbytes(t.shape, *t.dtype);
  if (!need) f.fail("dims '" + *dims + "' overflow: the tensor would exceed 2^63 bytes");

  const std::uint64_t available = f.size() - h.payload_start;
  std::uint64_t payload_len = available;  // minimal variant: everything after $End
  if (const auto* len = get("$Object.Length")) {
    if (!parse_u64(*len, payload_len)) f.fail("$Object.Length '" + *len + "' is not a number");
    if (payload_len > available) {
      f.fail("truncated payload: header says " + std::to_string(payload_len) + " bytes, file has " +
             std::to_string(available));
    }
  }
  r.end = h.payload_start + payload_len;

  // Every "$Object.<name>=offset,length" names a byte range of the payload. Together they must
  // tile it exactly: a gap, overlap or range past the end means the header does not describe the
  // bytes that follow it, and reading "data" at its offset would store shifted values.
  struct ObjectRange {
    std::string name;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
  };
  std::vector<ObjectRange> objects;
  for (const auto& [key, value] : a) {
    if (key.rfind("$Object.", 0) != 0 || key == "$Object.Count" || key == "$Object.Length") continue;
    const std::size_t comma = value.find(',');
    ObjectRange o{key.substr(8), 0, 0};
    if (comma == std::string::npos || !parse_u64(std::string_view(value).substr(0, comma), o.offset) ||
        !parse_u64(std::string_view(value).substr(comma + 1), o.length)) {
      f.fail(key + " '" + value + "' is not 'offset,length'");
    }
    if (o.offset > payload_len || o.length > payload_len - o.offset) {
      f.fail(key + " range " + value + " lies outside the " + std::to_string(payload_len) + "-byte payload");
    }
    objects.push_back(std::move(o));
  }
  std::sort(objects.begin(), objects.end(), [](const ObjectRange& x, const ObjectRange& y) {
    return x.offset != y.offset ? x.offset < y.offset : x.length < y.length;
  });
  std::uint64_t covered = 0;
  for (const auto& o : objects) {
    if (o.offset != covered) {
      f.fail("$Object." + o.name + " starts at " + std::to_string(o.offset) + " but the objects before it end at " +
             std::to_string(covered) + " (the objects must tile the payload exactly)");
    }
    covered += o.length;
  }
  if (!objects.empty() && covered != payload_len) {
    f.fail("the objects cover " + std::to_string(covered) + " of the " + std::to_string(payload_len) +
           " payload bytes (they must tile it exactly)");
  }
  std::uint64_t data_off = 0;
  std::uint64_t data_len = payload_len;
  const auto data_obj =
      std::find_if(objects.begin(), objects.end(), [](const ObjectRange& o) { return o.name == "data"; });
  const bool has_object = data_obj != objects.end();
  if (has_object) {
    data_off = data_obj->offset;
    data_len = data_obj->length;
  } else if (!objects.empty()) {
    f.fail("the payload holds objects but none named 'data'");
  }
  const bool stats_only = !has_object && payload_len == 0 && (get("max") != nullptr || get("l2norm") != nullptr);
  const std::string* alias = get("data");
  if (stats_only) {
    FileStats s;
    if (const auto* v = get("min")) s.min = parse_stat(*v);
    if (const auto* v = get("max")) s.max = parse_stat(*v);
    if (const auto* v = get("mean")) s.mean = parse_stat(*v);
    if (const auto* v = get("l2norm")) s.l2norm = parse_stat(*v);
    t.file_stats = s;
    return r;
  }
  if (!has_object && alias != nullptr && payload_len == 0) {
    t.alias_of = *alias;
    return r;
  }
  if (data_len != *need) {
    f.fail("payload is " + std::to_string(data_len) + " bytes but dims [" + *dims + "] x " +
           std::string(dtype_name(*t.dtype)) + " need " + std::to_string(*need));
  }
  t.data = f.read_vec(h.payload_start + data_off, static_cast<std::size_t>(data_len));
  t.has_data = true;
  return r;
}

std::vector<DecodedTensor> read_atb(const ByteSource& f) {
  if (f.size() == 0) {
    const std::string base = std::filesystem::path(f.name()).filename().string();
    if (is_md5_name(base)) {
      DecodedTensor t;
      t.md5 = base;
      return {std::move(t)};
    }
    f.fail("empty file");
  }
  Record r = read_record(f, 0);
  int records = 1;
  // The probe appends (docs/readers.md, appended records): a later record is the most recent write.
  while (r.end < f.size()) {
    const std::uint64_t rest = f.size() - r.end;
    const std::string peek = f.read_string(r.end, static_cast<std::size_t>(std::min<std::uint64_t>(rest, 9)));
    if (peek != "$Version=") {
      r.tensor.flags = "trailing_bytes=" + std::to_string(rest);
      break;
    }
    r = read_record(f, r.end);
    ++records;
  }
  if (records > 1) r.tensor.flags = "appended_records=" + std::to_string(records);
  std::vector<DecodedTensor> out;
  out.push_back(std::move(r.tensor));
  return out;
}

}  // namespace

std::vector<DecodedTensor> read_atb_bin(const std::filesystem::path& path, const ReadLimits& limits) {
  return read_atb(InputFile(path, limits));
}

std::vector<DecodedTensor> read_atb_bin(std::span<const std::byte> bytes, const std::string& display_path,
                                        const ReadLimits& limits) {
  return read_atb(MemoryInput(bytes, display_path, limits));
}

}  // namespace aitdb::ingest
