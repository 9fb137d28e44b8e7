#pragma once
// CPU golden recomputation of single ATB operations (aitdb opcheck, docs/opcheck.md): from an
// operation's dumped input tensors and its op_param.json, compute the outputs a correct kernel
// would have produced. The caller compares them with the dumped outputs (opcheck_criteria.h).
//
// Usage:
//   const OpcheckKernel kernel = find_opcheck_kernel("RmsNormOperation");
//   if (kernel == nullptr) { /* write a "not supported" row */ }
//   std::vector<HostTensor> golden = kernel({.what = op_path, .param = param_json, .inputs = inputs});
// A kernel throws aitdb::FormatError(what, reason) when the param or the inputs do not describe a
// computable case (missing required param, wrong input count, mismatched shapes, unknown enum).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "aitdb/schema/dtype.h"

namespace aitdb::compare {

// A dense row-major tensor on the host. Values are held as float32 whatever the dtype: the
// kernels compute in float32 (as torch/msit do for these operations) and round every result to
// the output dtype, so each value is exactly representable in `dtype` (fp16/bf16 rounding is
// round-to-nearest-even, integer outputs are whole numbers). Integer tensors are exact up to
// 2^24 in magnitude, which covers indices, lengths and slots of LLM-sized caches.
struct HostTensor {
  DType dtype = DType::Float32;
  std::vector<std::int64_t> shape;
  std::vector<float> values;
  // The exact values of a 32/64-bit integer tensor, for kernels that reinterpret bits (Linear's
  // deq_scale holds float32 bit patterns in int64); filled by host_tensor_from_bytes, optional.
  std::vector<std::int64_t> exact_integers;

  [[nodiscard]] std::size_t numel() const { return values.size(); }
};

// A tensor from its stored little-endian bytes (what the store's blobs hold). Throws
// FormatError(what, ...) when the byte count does not match dtype and shape, or the dtype is
// complex or fp8.
HostTensor host_tensor_from_bytes(const std::string& what, DType dtype, std::vector<std::int64_t> shape,
                                  std::span<const std::byte> bytes);
// The same, writing the values into `storage` (its capacity is reused: a caller that loads tensor
// after tensor hands back the buffers of the previous ones instead of faulting in fresh pages).
HostTensor host_tensor_from_bytes(const std::string& what, DType dtype, std::vector<std::int64_t> shape,
                                  std::span<const std::byte> bytes, std::vector<float> storage);

struct OpcheckCall {
  std::string what;             // the op's path or name; becomes FormatError::path()
  const nlohmann::json& param;  // op_param.json as parsed (an object; {} when absent)
  std::span<const HostTensor> inputs;  // intensor0.. in index order (before/ when dumped)
};

// Returns the golden output tensors, in outtensor index order (for in-place operations: the
// updated in-place inputs, see opcheck_inplace_inputs).
using OpcheckKernel = std::vector<HostTensor> (*)(const OpcheckCall& call);

// The kernel for an ATB operation type ("LinearOperation", "ElewiseOperation", ...), or nullptr
// when aitdb has no golden for it (the caller reports the op as not supported).
OpcheckKernel find_opcheck_kernel(std::string_view op_type);

// Every operation type find_opcheck_kernel knows, sorted.
std::vector<std::string_view> opcheck_supported_ops();

// Operations that write their result into some of their inputs (KvCacheOperation: input 2;
// ReshapeAndCacheOperation: inputs 2 and 3). Their golden outputs are those inputs after the op,
// in this order, to be compared with the same inputs dumped after execution. Empty otherwise.
std::span<const int> opcheck_inplace_inputs(std::string_view op_type);

// Threads one GEMM may use (Linear, Matmul); default: the machine's cores. A caller that runs
// several kernels at once sets 1.
void set_opcheck_gemm_threads(unsigned threads);
// The instruction set the opcheck GEMM runs on here ("avx512", "avx2+fma" or "baseline").
const char* opcheck_gemm_isa();
// Runs the GEMM on `isa` from now on (tests check every variant against the others); false, and
// nothing changed, when the name is unknown or this CPU lacks the instructions.
bool set_opcheck_gemm_isa(std::string_view isa);

// Rounds a float32 value to `dtype`: fp16 and bf16 round to nearest even; integer types truncate
// toward zero and wrap as torch's .to(intN) does; bool becomes 0/1; float32/float64 keep the
// value; fp8 and complex types are returned unchanged (no kernel produces them).
float round_to_dtype(DType dtype, float value);

}  // namespace aitdb::compare
