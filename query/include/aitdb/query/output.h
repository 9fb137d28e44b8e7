#pragma once
// Result formatting for `aitdb query` and the listing commands.
#include <ostream>
#include <string>
#include <vector>

#include "aitdb/schema/store.h"

namespace aitdb::query {

enum class OutputFormat { Table, Csv, Json };

OutputFormat parse_output_format(const std::string& s);  // throws UsageError

// A CSV cell as Python's csv module writes it (QUOTE_MINIMAL: quoted when it holds a comma,
// quote or line break; quotes doubled).
std::string csv_escape(const std::string& s);

// Python repr() of a double ("10.0", "0.0001", "1e-05", "1.5e+16", "nan", "inf").
std::string format_double(double d);

// Text of one cell as the table and CSV formats print it (doubles as format_double, blobs as
// x'hex').
std::string cell_text(const SqlValue& v);

// Runs every statement of sql and writes the rows of each one that returns rows.
// Returns the number of rows written.
std::size_t run_query(Store& store, const std::string& sql, const std::vector<SqlValue>& params, OutputFormat fmt,
                      std::ostream& out);

}  // namespace aitdb::query
