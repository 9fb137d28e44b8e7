#pragma once
// msit's compare report CSV (docs/compare.md) from the `report` view.
#include <filesystem>
#include <string>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb::query {

struct ExportResult {
  std::filesystem::path file;
  std::size_t rows = 0;
  std::size_t dropped = 0;  // rows removed by msit's filters
};

// Writes {dir}/msit_cmp_report_{UTC YYYYMMDDHHMMSS}.csv (legacy: ait_cmp_report_{local time}.csv):
// msit's 24 columns, my-side execution order, Python-repr numbers, NaN as empty cells, inf as
// "inf"; rows whose only failure is "data shape doesn't match." and rows pairing int8 with
// non-int8 are dropped (the second filter applied to every row, as compare.md recommends). An
// existing file is never overwritten: a second report in the same second gets a _1, _2 suffix.
// Text cells starting with = + - @ % tab or CR are prefixed with ' against CSV injection.
ExportResult export_report(Store& store, std::int64_t comparison_id, const std::filesystem::path& dir,
                           bool legacy_name);
// As export_report, but a graph-mode comparison (ge_fx, ge_ge) of dumps with rank folders gets one
// report per rank, named as msit names them: msit_cmp_report_rank{R}_{ts}.csv.
std::vector<ExportResult> export_reports(Store& store, std::int64_t comparison_id, const std::filesystem::path& dir,
                                         bool legacy_name);

// Creates {dir}/{base}.csv (a _1, _2 suffix when it exists; never overwrites) holding `content`;
// creates dir when missing. Returns the file written.
std::filesystem::path write_new_report_file(const std::filesystem::path& dir, const std::string& base,
                                            const std::string& content);
// YYYYMMDDHHMMSS, UTC or local time, as msit names its reports.
std::string report_timestamp(bool utc);

// Python csv-module formatting of one cell (QUOTE_MINIMAL) after injection neutralising.
std::string report_cell(const std::string& text);

}  // namespace aitdb::query
