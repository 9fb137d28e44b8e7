#include "aitdb/query/output.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "aitdb/schema/errors.h"

namespace aitdb::query {
namespace {

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void header(const std::vector<std::string>& names) = 0;
  virtual void row(const std::vector<SqlValue>& r) = 0;
  virtual void finish() = 0;
};

class CsvSink : public Sink {
 public:
  explicit CsvSink(std::ostream& o) : o_(o) {}
  void header(const std::vector<std::string>& names) override {
    for (std::size_t i = 0; i < names.size(); ++i) o_ << (i ? "," : "") << csv_escape(names[i]);
    o_ << '\n';
  }
  void row(const std::vector<SqlValue>& r) override {
    for (std::size_t i = 0; i < r.size(); ++i) o_ << (i ? "," : "") << csv_escape(cell_text(r[i]));
    o_ << '\n';
  }
  void finish() override {}

 private:
  std::ostream& o_;
};

class JsonSink : public Sink {
 public:
  explicit JsonSink(std::ostream& o) : o_(o) {}
  void header(const std::vector<std::string>& names) override { names_ = names; }
  void row(const std::vector<SqlValue>& r) override {
    nlohmann::ordered_json obj = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < r.size(); ++i) {
      const auto& v = r[i];
      auto& slot = obj[names_[i]];
      if (std::holds_alternative<std::int64_t>(v)) {
        slot = std::get<std::int64_t>(v);
      } else if (std::holds_alternative<double>(v)) {
        const double d = std::get<double>(v);
        slot = std::isfinite(d) ? nlohmann::ordered_json(d) : nlohmann::ordered_json(format_double(d));
      } else if (std::holds_alternative<std::string>(v)) {
        slot = std::get<std::string>(v);
      } else if (std::holds_alternative<std::vector<std::uint8_t>>(v)) {
        slot = cell_text(v);
      } else {
        slot = nullptr;
      }
    }
    o_ << (first_ ? "[\n  " : ",\n  ") << obj.dump();
    first_ = false;
  }
  void finish() override { o_ << (first_ ? "[]\n" : "\n]\n"); }

 private:
  std::ostream& o_;
  std::vector<std::string> names_;
  bool first_ = true;
};

// Aligned columns need every row before the first line is printed.
class TableSink : public Sink {
 public:
  explicit TableSink(std::ostream& o) : o_(o) {}
  void header(const std::vector<std::string>& names) override {
    finish();  // a previous statement's result, if any
    rows_.clear();
    names_ = names;
    width_.assign(names.size(), 0);
    for (std::size_t i = 0; i < names.size(); ++i) width_[i] = names[i].size();
  }
  void row(const std::vector<SqlValue>& r) override {
    std::vector<std::string> cells;
    for (std::size_t i = 0; i < r.size(); ++i) {
      cells.push_back(std::holds_alternative<std::monostate>(r[i]) ? "NULL" : cell_text(r[i]));
      width_[i] = std::max(width_[i], cells.back().size());
    }
    rows_.push_back(std::move(cells));
  }
  void finish() override {
    if (names_.empty()) return;
    print(names_);
    std::vector<std::string> rule;
    for (const auto w : width_) rule.emplace_back(w, '-');
    print(rule);
    for (const auto& r : rows_) print(r);
  }

 private:
  void print(const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i) line += "  ";
      line += cells[i];
      if (i + 1 < cells.size()) line.append(width_[i] - cells[i].size(), ' ');
    }
    o_ << line << '\n';
  }
  std::ostream& o_;
  std::vector<std::string> names_;
  std::vector<std::size_t> width_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace

std::string format_double(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  // Python repr: the shortest digit string that round-trips, in fixed notation when the decimal
  // exponent is in [-4, 16), otherwise as d.ddde+XX; fixed values always show a decimal point.
  char buf[64];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string sci = buf;
  const auto epos = sci.find('e');
  const int exp10 = std::atoi(sci.c_str() + epos + 1);
  std::string digits;
  for (std::size_t i = 0; i < epos; ++i) {
    if (std::isdigit(static_cast<unsigned char>(sci[i])) != 0) digits += sci[i];
  }
  const bool neg = d < 0 || (d == 0 && std::signbit(d));
  std::string out = neg ? "-" : "";
  if (exp10 >= -4 && exp10 < 16) {
    if (exp10 < 0) {
      out += "0." + std::string(static_cast<std::size_t>(-exp10 - 1), '0') + digits;
    } else if (static_cast<std::size_t>(exp10) + 1 >= digits.size()) {
      out += digits + std::string(static_cast<std::size_t>(exp10) + 1 - digits.size(), '0') + ".0";
    } else {
      out += digits.substr(0, static_cast<std::size_t>(exp10) + 1) + "." + digits.substr(static_cast<std::size_t>(exp10) + 1);
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char e[16];
  std::snprintf(e, sizeof e, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
  return out + e;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (const char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

OutputFormat parse_output_format(const std::string& s) {
  if (s == "table") return OutputFormat::Table;
  if (s == "csv") return OutputFormat::Csv;
  if (s == "json") return OutputFormat::Json;
  throw UsageError("unknown format '" + s + "' (expected table, csv or json)");
}

std::string cell_text(const SqlValue& v) {
  if (std::holds_alternative<std::int64_t>(v)) return std::to_string(std::get<std::int64_t>(v));
  if (std::holds_alternative<double>(v)) return format_double(std::get<double>(v));
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<std::vector<std::uint8_t>>(v)) {
    static const char* hex = "0123456789abcdef";
    std::string s = "x'";
    for (const auto b : std::get<std::vector<std::uint8_t>>(v)) {
      s += hex[b >> 4U];
      s += hex[b & 0xFU];
    }
    return s + "'";
  }
  return "";
}

std::size_t run_query(Store& store, const std::string& sql, const std::vector<SqlValue>& params, OutputFormat fmt,
                      std::ostream& out) {
  std::unique_ptr<Sink> sink;
  switch (fmt) {
    case OutputFormat::Table: sink = std::make_unique<TableSink>(out); break;
    case OutputFormat::Csv: sink = std::make_unique<CsvSink>(out); break;
    case OutputFormat::Json: sink = std::make_unique<JsonSink>(out); break;
  }
  std::size_t rows = 0;
  store.execute(
      sql, params, [&](const std::vector<std::string>& names) { sink->header(names); },
      [&](const std::vector<SqlValue>& r) {
        sink->row(r);
        ++rows;
      });
  sink->finish();
  return rows;
}

}  // namespace aitdb::query
