#pragma once
// GE's dump dtype and format numbering (docs/formats_graph_mode.md §1.4, §1.5). Internal to ingest.
#include <optional>
#include <string>

#include "aitdb/schema/dtype.h"

namespace aitdb::ingest {

// GE OutputDataType values map to our dtypes through the one dtype table (aitdb::dtype_from_ge_code
// in schema/dtype.h): only exact equivalents; quantised, dual and sub-byte types, strings and
// resources carry meaning the dump does not hold, and the reader refuses them with
// ge_dtype_name() in the reason.
std::string ge_dtype_name(int code);  // "DT_FLOAT16", or "GE dtype 40" when unknown

std::string ge_format_name(int code);  // "FRACTAL_NZ", or "GE format 77" when unknown

// How the bytes of a device format relate to the logical (original-shape) tensor.
enum class GeLayoutKind {
  RowMajor,    // plain layouts (ND, NCHW, NHWC, ...): bytes are the tensor in row-major order
  FractalNz,   // converted to ND by fractal_nz_to_nd()
  Unsupported  // 5-D/fractal layouts whose conversion aitdb does not define
};
GeLayoutKind ge_layout_kind(int code);

}  // namespace aitdb::ingest
