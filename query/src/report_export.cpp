#include "aitdb/query/report_export.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <ctime>
#include <optional>

#include "aitdb/query/output.h"
#include "aitdb/schema/errors.h"

namespace aitdb::query {
namespace {

constexpr const char* kHeader =
    "token_id,data_id,golden_data_path,golden_op_type,golden_dtype,golden_shape,golden_max_value,golden_min_value,"
    "golden_mean_value,my_data_path,my_op_type,my_dtype,my_shape,my_max_value,my_min_value,my_mean_value,"
    "cosine_similarity,max_relative_error,mean_relative_error,max_absolute_error,mean_absolute_error,kl_divergence,"
    "relative_euclidean_distance,cmp_fail_reason";

// Report columns 7-9 and 14-16 hold `tensor.float().max()` etc.: float32 values widened to
// Python floats. Stored statistics are doubles; rounding through float reproduces msit's text.
std::string stat_cell(const SqlValue& v) {
  if (std::holds_alternative<double>(v))
    return format_double(static_cast<double>(static_cast<float>(std::get<double>(v))));
  if (std::holds_alternative<std::int64_t>(v)) return format_double(static_cast<double>(std::get<std::int64_t>(v)));
  return "";
}

std::string metric_cell(const SqlValue& v) {
  if (std::holds_alternative<double>(v)) {
    const double d = std::get<double>(v);
    return std::isnan(d) ? "" : format_double(d);
  }
  if (std::holds_alternative<std::int64_t>(v)) return format_double(static_cast<double>(std::get<std::int64_t>(v)));
  return "";  // NULL: pre-check failed or metric NaN
}

std::string text_cell(const SqlValue& v) {
  if (std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
  if (std::holds_alternative<std::monostate>(v)) return "";
  return cell_text(v);
}

bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

}  // namespace

std::string report_timestamp(bool utc) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  if (utc) {
    gmtime_r(&now, &tm);
  } else {
    localtime_r(&now, &tm);
  }
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

std::filesystem::path write_new_report_file(const std::filesystem::path& dir, const std::string& base,
                                            const std::string& content) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (std::error_code is_ec; std::filesystem::exists(dir, is_ec) && !std::filesystem::is_directory(dir, is_ec)) {
    throw Error(ErrorKind::Usage, dir.string(), "is not a directory");
  }
  if (ec) throw IoError(dir.string(), "cannot create directory: " + ec.message());
  std::filesystem::path file;
  int fd = -1;
  for (int n = 0; fd < 0; ++n) {
    file = dir / (base + (n == 0 ? "" : "_" + std::to_string(n)) + ".csv");
    fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0 && (errno != EEXIST || n > 1000)) {
      throw IoError(file.string(), std::string("cannot create: ") + std::strerror(errno));
    }
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const std::string err = std::strerror(errno);
      ::close(fd);
      ::unlink(file.c_str());
      throw IoError(file.string(), "write failed: " + err);
    }
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  if (::close(fd) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(file.c_str());
    throw IoError(file.string(), "close failed: " + err);
  }
  return file;
}

std::string report_cell(const std::string& text) {
  std::string s = text;
  if (!s.empty() && std::strchr("=+-@%\t\r", s[0]) != nullptr && !looks_numeric(s)) s = "'" + s;
  return csv_escape(s);
}

namespace {

void require_finished(Store& store, std::int64_t comparison_id) {
  bool exists = false;
  store.execute(
      "SELECT 1 FROM comparisons WHERE id = ?1 AND finished_at IS NOT NULL", {SqlValue{comparison_id}},
      [](const auto&) {}, [&](const auto&) { exists = true; });
  if (!exists)
    throw NotFoundError("comparison " + std::to_string(comparison_id), "no finished comparison with this id");
}

// The report of one comparison; with `my_rank_key`, only the rows whose my tensor is of that rank.
ExportResult write_report(Store& store, std::int64_t comparison_id, const std::filesystem::path& dir, bool legacy_name,
                          const std::optional<std::string>& my_rank_key, const std::string& rank_part) {
  ExportResult res;
  std::string out = std::string(kHeader) + "\n";
  store.execute(
      "SELECT token_id, data_id, golden_data_path, golden_op_type, golden_dtype, golden_shape, golden_max_value, "
      "golden_min_value, golden_mean_value, my_data_path, my_op_type, my_dtype, my_shape, my_max_value, my_min_value, "
      "my_mean_value, cosine_similarity, max_relative_error, mean_relative_error, max_absolute_error, "
      "mean_absolute_error, kl_divergence, relative_euclidean_distance, cmp_fail_reason "
      "FROM report WHERE comparison_id = ?1 AND (?2 IS NULL OR my_tensor_id IN (SELECT id FROM tensors WHERE "
      "coalesce(rank_key, '') = ?2)) ORDER BY seq",
      {SqlValue{comparison_id}, my_rank_key ? SqlValue{*my_rank_key} : SqlValue{}}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) {
        const std::string reason = text_cell(r[23]);
        const std::string gd = text_cell(r[4]);
        const std::string md = text_cell(r[11]);
        if (reason == "data shape doesn't match." || ((gd == "torch.int8") != (md == "torch.int8"))) {
          ++res.dropped;
          return;
        }
        std::string line;
        for (int c = 0; c < 24; ++c) {
          std::string cell;
          if (c == 6 || c == 7 || c == 8 || c == 13 || c == 14 || c == 15) {
            cell = stat_cell(r[static_cast<std::size_t>(c)]);
          } else if (c >= 16 && c <= 22) {
            cell = metric_cell(r[static_cast<std::size_t>(c)]);
          } else {
            cell = report_cell(text_cell(r[static_cast<std::size_t>(c)]));
          }
          line += (c ? "," : "") + cell;
        }
        out += line + "\n";
        ++res.rows;
      });
  res.file = write_new_report_file(
      dir,
      std::string(legacy_name ? "ait_cmp_report_" : "msit_cmp_report_") + rank_part + report_timestamp(!legacy_name),
      out);
  return res;
}

}  // namespace

ExportResult export_report(Store& store, std::int64_t comparison_id, const std::filesystem::path& dir,
                           bool legacy_name) {
  require_finished(store, comparison_id);
  return write_report(store, comparison_id, dir, legacy_name, std::nullopt, "");
}

std::vector<ExportResult> export_reports(Store& store, std::int64_t comparison_id, const std::filesystem::path& dir,
                                         bool legacy_name) {
  require_finished(store, comparison_id);
  // Graph-mode comparisons of dumps with rank folders ('worldsize{W}_global_rank{R}'): my ranks
  // that have pairs, by rank id.
  std::vector<std::pair<std::string, std::int64_t>> ranks;
  store.execute(
      "SELECT DISTINCT m.rank_key, CAST(substr(m.rank_key, length(rtrim(m.rank_key, '0123456789')) + 1) AS INTEGER) "
      "AS r FROM comparisons c JOIN pairs p ON p.comparison_id = c.id JOIN tensors m ON m.id = p.my_tensor_id "
      "WHERE c.id = ?1 AND (c.matchers LIKE '%\"ge_fx\"%' OR c.matchers LIKE '%\"ge_ge\"%') "
      "AND m.rank_key GLOB 'worldsize*rank[0-9]*' ORDER BY r, m.rank_key",
      {SqlValue{comparison_id}}, [](const auto&) {},
      [&](const std::vector<SqlValue>& r) {
        ranks.emplace_back(std::get<std::string>(r[0]), std::get<std::int64_t>(r[1]));
      });
  std::vector<ExportResult> out;
  if (ranks.empty()) {
    out.push_back(write_report(store, comparison_id, dir, legacy_name, std::nullopt, ""));
    return out;
  }
  for (const auto& [key, rank] : ranks) {
    out.push_back(write_report(store, comparison_id, dir, legacy_name, key, "rank" + std::to_string(rank) + "_"));
  }
  return out;
}

}  // namespace aitdb::query
