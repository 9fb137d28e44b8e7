// Operation/kernel io CSV (docs/formats.md, "Operation and kernel io CSV"): '|'-separated, no
// quoting, a header naming 21 columns in any order, cells padded with spaces in curated copies,
// ';'-joined per-tensor lists, ','-joined dims, blank lines where the probe refused a row.
#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "aitdb/schema/errors.h"
#include "file_io.h"
#include "op_io_csv.h"

namespace aitdb::ingest {
namespace {

enum Column : std::size_t {
  kCaseNum,
  kOpName,
  kOpParam,
  kInNum,
  kInDType,
  kInFormat,
  kInShape,
  kOutNum,
  kOutDType,
  kOutFormat,
  kOutShape,
  kDataGenType,
  kDataGenRange,
  kInTensorFile,
  kOutTensorFile,
  kTestType,
  kTestLevel,
  kFromModel,
  kSocVersion,
  kExpectedError,
  kColumnCount
};
constexpr std::array<const char*, kColumnCount> kNames = {
    "CaseNum",       "OpName",   "OpParam",   "InNum",     "InDType",     "InFormat",     "InShape",
    "OutNum",        "OutDType", "OutFormat", "OutShape",  "DataGenType", "DataGenRange", "InTensorFile",
    "OutTensorFile", "TestType", "TestLevel", "FromModel", "SocVersion",  "ExpectedError"};
// Rows cannot be read without these; the rest are kept when present.
constexpr std::array<Column, 10> kRequired = {kOpName,  kOpParam, kInNum,    kInDType,   kInFormat,
                                              kInShape, kOutNum,  kOutDType, kOutFormat, kOutShape};

struct BadRow {
  std::string reason;
};

// The ';' list of a count column: `count` entries (an empty cell is no entry when count is 0,
// else one empty entry, e.g. a 0-d shape).
std::vector<std::string_view> list_of(std::string_view cell, std::int64_t count, const char* column) {
  if (count == 0 && cell.empty()) return {};
  auto items = split_trimmed(cell, ';');
  if (static_cast<std::int64_t>(items.size()) != count) {
    throw BadRow{std::string(column) + " lists " + std::to_string(items.size()) + " entries for " +
                 std::to_string(count) + " tensors"};
  }
  return items;
}

std::vector<std::int64_t> shape_of(std::string_view entry, std::size_t index, const char* column) {
  std::vector<std::int64_t> dims;
  if (entry.empty()) return dims;  // a 0-d tensor
  for (const auto d : split_trimmed(entry, ',')) {
    const auto v = parse_cell_int(d);
    if (!v || *v < 0) {
      throw BadRow{std::string(column) + " entry " + std::to_string(index) + " '" + std::string(entry) +
                   "' is not a list of dimensions"};
    }
    dims.push_back(*v);
  }
  return dims;
}

std::int64_t count_of(std::string_view cell, const char* column) {
  const auto v = parse_cell_int(cell);
  if (!v || *v < 0) throw BadRow{std::string(column) + " '" + std::string(cell) + "' is not a count"};
  return *v;
}

class Parser {
 public:
  Parser(std::string display_path, std::string kind) : path_(std::move(display_path)), kind_(std::move(kind)) {
    if (kind_ != "operation" && kind_ != "kernel") throw FormatError(path_, "unknown op io CSV kind '" + kind_ + "'");
  }

  void header(std::string_view line) {
    if (line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
    const auto cells = split_trimmed(line, '|');
    width_ = cells.size();
    at_.fill(kAbsent);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      for (std::size_t c = 0; c < kColumnCount; ++c) {
        if (cells[i] != kNames[c]) continue;
        if (at_[c] != kAbsent) throw FormatError(path_, "header names column " + std::string(kNames[c]) + " twice");
        at_[c] = i;
      }
    }
    for (const Column c : kRequired) {
      if (at_[c] == kAbsent) throw FormatError(path_, "header has no column " + std::string(kNames[c]));
    }
  }

  OpIoRecord row(std::int64_t line_no, std::string_view line) const {
    const auto cells = split_trimmed(line, '|');
    if (cells.size() != width_) {
      throw BadRow{std::to_string(cells.size()) + " cells, the header has " + std::to_string(width_)};
    }
    auto cell = [&](Column c) { return at_[c] == kAbsent ? std::string_view() : cells[at_[c]]; };
    auto optional_cell = [&](Column c) -> std::optional<std::string> {
      if (at_[c] == kAbsent) return std::nullopt;
      return std::string(cells[at_[c]]);
    };
    OpIoRecord r;
    r.line = line_no;
    r.kind = kind_;
    if (!cell(kCaseNum).empty()) {
      r.case_num = parse_cell_int(cell(kCaseNum));
      if (!r.case_num) throw BadRow{"CaseNum '" + std::string(cell(kCaseNum)) + "' is not a number"};
    }
    r.op_name = std::string(cell(kOpName));
    if (r.op_name.empty()) throw BadRow{"OpName is empty"};
    r.op_param = std::string(cell(kOpParam));
    if (kind_ == "operation") {
      OpNameParts parts = split_op_name(r.op_name);
      r.op_type = std::move(parts.type);
      r.id_path = std::move(parts.id_path);
      if (r.op_param.empty()) r.op_param = "{}";
      if (!nlohmann::json::accept(r.op_param)) throw BadRow{"OpParam is not JSON"};
    }
    r.in_num = count_of(cell(kInNum), "InNum");
    r.out_num = count_of(cell(kOutNum), "OutNum");
    add_tensors(r, "in", r.in_num, {kInDType, kInFormat, kInShape, kInTensorFile}, cells);
    add_tensors(r, "out", r.out_num, {kOutDType, kOutFormat, kOutShape, kOutTensorFile}, cells);
    r.data_gen_type = optional_cell(kDataGenType);
    r.data_gen_range = optional_cell(kDataGenRange);
    r.test_type = optional_cell(kTestType);
    r.test_level = optional_cell(kTestLevel);
    r.from_model = optional_cell(kFromModel);
    r.soc_version = optional_cell(kSocVersion);
    r.expected_error = optional_cell(kExpectedError);
    return r;
  }

 private:
  static constexpr std::size_t kAbsent = static_cast<std::size_t>(-1);

  void add_tensors(OpIoRecord& r, const char* io, std::int64_t count, std::array<Column, 4> cols,
                   const std::vector<std::string_view>& cells) const {
    auto cell = [&](Column c) { return at_[c] == kAbsent ? std::string_view() : cells[at_[c]]; };
    const auto dtypes = list_of(cell(cols[0]), count, kNames[cols[0]]);
    const auto formats = list_of(cell(cols[1]), count, kNames[cols[1]]);
    const auto shapes = list_of(cell(cols[2]), count, kNames[cols[2]]);
    // Curated copies leave the file columns empty.
    const std::vector<std::string_view> files =
        cell(cols[3]).empty() ? std::vector<std::string_view>() : list_of(cell(cols[3]), count, kNames[cols[3]]);
    for (std::size_t i = 0; i < dtypes.size(); ++i) {
      OpIoTensorRecord t;
      t.io = io;
      t.io_index = static_cast<std::int64_t>(i);
      t.dtype = std::string(dtypes[i]);
      t.format = std::string(formats[i]);
      t.shape = shape_of(shapes[i], i, kNames[cols[2]]);
      if (!files.empty() && !files[i].empty()) t.file_path = std::string(files[i]);
      r.tensors.push_back(std::move(t));
    }
  }

  std::string path_;
  std::string kind_;
  std::size_t width_ = 0;
  std::array<std::size_t, kColumnCount> at_{};
};

}  // namespace

OpIoCsv read_op_io_csv(std::string_view text, const std::string& display_path, const std::string& kind) {
  Parser parser(display_path, kind);
  OpIoCsv out;
  bool have_header = false;
  for_each_line(text, [&](std::int64_t line_no, std::string_view line) {
    if (!have_header) {
      parser.header(line);
      have_header = true;
      return;
    }
    if (trim(line).empty()) return;  // a row the probe refused to write
    try {
      out.rows.push_back(parser.row(line_no, line));
    } catch (const BadRow& bad) {
      out.errors.push_back({line_no, bad.reason});
    }
  });
  if (!have_header) throw FormatError(display_path, "empty file: no header line");
  return out;
}

OpIoCsv read_op_io_csv(std::span<const std::byte> bytes, const std::string& display_path, const std::string& kind,
                       const ReadLimits& limits) {
  const MemoryInput in(bytes, display_path, limits);
  const std::string text = in.read_string(0, static_cast<std::size_t>(in.size()));
  return read_op_io_csv(text, display_path, kind);
}

}  // namespace aitdb::ingest
