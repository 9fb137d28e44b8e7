// cpu_profiling statistics (docs/formats.md, "cpu_profiling"): the probe's raw lines and msit's
// converted CSV, both into (op name, phase, key, value) records.
#include <algorithm>
#include <array>

#include "aitdb/schema/errors.h"
#include "cpu_profiling.h"
#include "file_io.h"

namespace aitdb::ingest {
namespace {

struct BadLine {
  std::string reason;
};

// Keys only an execute report carries; every other report is a setup report.
bool is_execute_key(std::string_view key) {
  constexpr std::array<std::string_view, 5> kExecuteOnly = {"kernelExecuteTime", "streamSyncTime", "tillingCopyTime",
                                                            "launchTime", "preLaunchTime"};
  return std::find(kExecuteOnly.begin(), kExecuteOnly.end(), key) != kExecuteOnly.end();
}

// msit keeps op names matching [a-zA-Z0-9_]*.
bool is_op_name(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

CpuProfilingRecord record_of(std::int64_t line, std::string_view op_name) {
  CpuProfilingRecord r;
  r.line = line;
  r.op_name = std::string(op_name);
  r.id_path = split_op_name(op_name).id_path;
  return r;
}

std::vector<CpuProfilingRecord> txt_line(std::int64_t line_no, std::string_view line) {
  if (!line.starts_with('[')) throw BadLine{"does not start with [opName]"};
  const auto close = line.find("]:");
  if (close == std::string_view::npos) throw BadLine{"no ']:' after the op name"};
  const std::string_view name = line.substr(1, close - 1);
  if (name.empty() || !is_op_name(name)) throw BadLine{"op name '" + std::string(name) + "' is not [A-Za-z0-9_]+"};
  std::vector<CpuProfilingRecord> out;
  bool execute = false;
  for (const auto item : split_trimmed(line.substr(close + 2), ',')) {
    const auto colon = item.rfind(':');
    if (colon == std::string_view::npos) throw BadLine{"'" + std::string(item) + "' is not key:value"};
    const auto key = trim(item.substr(0, colon));
    const auto value = parse_cell_number(trim(item.substr(colon + 1)));
    if (key.empty() || !value) throw BadLine{"'" + std::string(item) + "' is not key:value"};
    execute = execute || is_execute_key(key);
    CpuProfilingRecord r = record_of(line_no, name);
    r.key = std::string(key);
    r.value = *value;
    out.push_back(std::move(r));
  }
  for (auto& r : out) r.phase = execute ? "execute" : "setup";
  return out;
}

// One CSV line in pandas' minimal quoting: "..." cells with "" for a quote.
std::vector<std::string> csv_cells(std::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back() += c;
    }
  }
  if (quoted) throw BadLine{"unterminated quote"};
  return cells;
}

}  // namespace

CpuProfiling read_cpu_profiling_txt(std::string_view text) {
  CpuProfiling out;
  for_each_line(text, [&](std::int64_t line_no, std::string_view line) {
    if (trim(line).empty()) return;
    try {
      auto records = txt_line(line_no, trim(line));
      std::move(records.begin(), records.end(), std::back_inserter(out.records));
    } catch (const BadLine& bad) {
      out.errors.push_back({line_no, bad.reason});
    }
  });
  return out;
}

CpuProfiling read_cpu_profiling_csv(std::string_view text, const std::string& display_path) {
  CpuProfiling out;
  struct Col {
    std::string phase;  // "" = not a statistic
    std::string key;
  };
  std::vector<Col> cols;
  std::size_t name_col = 0;
  bool have_header = false;
  for_each_line(text, [&](std::int64_t line_no, std::string_view line) {
    if (!have_header) {
      std::vector<std::string> head;
      try {
        head = csv_cells(line);
      } catch (const BadLine& bad) {
        throw FormatError(display_path, "header: " + bad.reason);
      }
      const auto at = std::find_if(head.begin(), head.end(), [](const std::string& h) { return trim(h) == "opname"; });
      if (at == head.end()) throw FormatError(display_path, "header has no column opname");
      name_col = static_cast<std::size_t>(at - head.begin());
      for (const auto& h : head) {
        const auto t = trim(h);
        if (t.starts_with("setup_") && t.size() > 6) {
          cols.push_back({"setup", std::string(t.substr(6))});
        } else if (t.starts_with("execute_") && t.size() > 8) {
          cols.push_back({"execute", std::string(t.substr(8))});
        } else {
          cols.push_back({});
        }
      }
      have_header = true;
      return;
    }
    if (trim(line).empty()) return;
    try {
      const auto cells = csv_cells(line);
      if (cells.size() != cols.size()) {
        throw BadLine{std::to_string(cells.size()) + " cells, the header has " + std::to_string(cols.size())};
      }
      const auto name = trim(cells[name_col]);
      if (name.empty() || !is_op_name(name)) throw BadLine{"op name '" + std::string(name) + "' is not [A-Za-z0-9_]+"};
      std::vector<CpuProfilingRecord> records;
      for (std::size_t i = 0; i < cells.size(); ++i) {
        const auto cell = trim(cells[i]);
        if (cols[i].phase.empty() || cell.empty()) continue;  // empty: the op had no such report
        const auto value = parse_cell_number(cell);
        if (!value)
          throw BadLine{"column " + cols[i].phase + "_" + cols[i].key + ": '" + std::string(cell) +
                        "' is not a number"};
        CpuProfilingRecord r = record_of(line_no, name);
        r.phase = cols[i].phase;
        r.key = cols[i].key;
        r.value = *value;
        records.push_back(std::move(r));
      }
      std::move(records.begin(), records.end(), std::back_inserter(out.records));
    } catch (const BadLine& bad) {
      out.errors.push_back({line_no, bad.reason});
    }
  });
  if (!have_header) throw FormatError(display_path, "empty file: no header line");
  return out;
}

CpuProfiling read_cpu_profiling(std::span<const std::byte> bytes, const std::string& display_path,
                                const ReadLimits& limits) {
  const MemoryInput in(bytes, display_path, limits);
  const std::string text = in.read_string(0, static_cast<std::size_t>(in.size()));
  if (display_path.ends_with(".csv")) return read_cpu_profiling_csv(text, display_path);
  if (display_path.ends_with(".txt")) return read_cpu_profiling_txt(text);
  throw FormatError(display_path, "a cpu_profiling file is .txt or .csv");
}

}  // namespace aitdb::ingest
