// GE's dump dtype and format tables. The dtype numbering is GE's own (ge_ir.proto DataType), which
// differs from aclDataType and from the C++ ge::DataType: e.g. 1 is float here, float16 in acl.
#include "ge_dump_codes.h"

#include <array>
#include <string_view>
#include <utility>

namespace aitdb::ingest {
namespace {

constexpr std::array<std::string_view, 32> kGeDtypeNames = {
    "DT_UNDEFINED",     "DT_FLOAT",          "DT_FLOAT16",   "DT_INT8",       "DT_UINT8", "DT_INT16",   "DT_UINT16",
    "DT_INT32",         "DT_INT64",          "DT_UINT32",    "DT_UINT64",     "DT_BOOL",  "DT_DOUBLE",  "DT_STRING",
    "DT_DUAL_SUB_INT8", "DT_DUAL_SUB_UINT8", "DT_COMPLEX64", "DT_COMPLEX128", "DT_QINT8", "DT_QINT16",  "DT_QINT32",
    "DT_QUINT8",        "DT_QUINT16",        "DT_RESOURCE",  "DT_STRING_REF", "DT_DUAL",  "DT_VARIANT", "DT_BF16",
    "DT_INT4",          "DT_UINT1",          "DT_INT2",      "DT_UINT2"};


constexpr std::array<std::string_view, 50> kGeFormatNames = {"NCHW",
                                                             "NHWC",
                                                             "ND",
                                                             "NC1HWC0",
                                                             "FRACTAL_Z",
                                                             "NC1C0HWPAD",
                                                             "NHWC1C0",
                                                             "FSR_NCHW",
                                                             "FRACTAL_DECONV",
                                                             "C1HWNC0",
                                                             "FRACTAL_DECONV_TRANSPOSE",
                                                             "FRACTAL_DECONV_SP_STRIDE_TRANS",
                                                             "NC1HWC0_C04",
                                                             "FRACTAL_Z_C04",
                                                             "CHWN",
                                                             "FRACTAL_DECONV_SP_STRIDE8_TRANS",
                                                             "HWCN",
                                                             "NC1KHKWHWC0",
                                                             "BN_WEIGHT",
                                                             "FILTER_HWCK",
                                                             "HASHTABLE_LOOKUP_LOOKUPS",
                                                             "HASHTABLE_LOOKUP_KEYS",
                                                             "HASHTABLE_LOOKUP_VALUE",
                                                             "HASHTABLE_LOOKUP_OUTPUT",
                                                             "HASHTABLE_LOOKUP_HITS",
                                                             "C1HWNCoC0",
                                                             "MD",
                                                             "NDHWC",
                                                             "FRACTAL_ZZ",
                                                             "FRACTAL_NZ",
                                                             "NCDHW",
                                                             "DHWCN",
                                                             "NDC1HWC0",
                                                             "FRACTAL_Z_3D",
                                                             "CN",
                                                             "NC",
                                                             "DHWNC",
                                                             "FRACTAL_Z_3D_TRANSPOSE",
                                                             "FRACTAL_ZN_LSTM",
                                                             "FRACTAL_Z_G",
                                                             "RESERVED",
                                                             "ALL",
                                                             "NULL",
                                                             "ND_RNN_BIAS",
                                                             "FRACTAL_ZN_RNN",
                                                             "YUV",
                                                             "YUV_A",
                                                             "NCL",
                                                             "FRACTAL_Z_WINO",
                                                             "C1HWC0"};

constexpr int kFractalNz = 29;
// Logical layouts: the device bytes are the tensor itself in row-major order of its shape.
constexpr std::array<int, 13> kRowMajorFormats = {0, 1, 2, 14, 16, 26, 27, 30, 31, 34, 35, 36, 47};

}  // namespace

std::string ge_dtype_name(int code) {
  if (code >= 0 && static_cast<std::size_t>(code) < kGeDtypeNames.size()) {
    return std::string(kGeDtypeNames[static_cast<std::size_t>(code)]);
  }
  return "GE dtype " + std::to_string(code);
}

std::string ge_format_name(int code) {
  if (code >= 0 && static_cast<std::size_t>(code) < kGeFormatNames.size()) {
    return std::string(kGeFormatNames[static_cast<std::size_t>(code)]);
  }
  return "GE format " + std::to_string(code);
}

GeLayoutKind ge_layout_kind(int code) {
  if (code == kFractalNz) return GeLayoutKind::FractalNz;
  for (const int f : kRowMajorFormats) {
    if (f == code) return GeLayoutKind::RowMajor;
  }
  return GeLayoutKind::Unsupported;
}

}  // namespace aitdb::ingest
