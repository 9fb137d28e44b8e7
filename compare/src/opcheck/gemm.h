// Float32 GEMM for the opcheck kernels, dispatched at run time to the widest SIMD the CPU has.
// Eigen is compiled once per instruction set (gemm_variant.inc); see gemm.cpp for why.
#pragma once

#include <cstdint>

namespace aitdb::compare::opcheck {

// A row-major matrix operand as stored, used transposed or not.
struct GemmOperand {
  const float* data;
  std::int64_t rows;  // as stored
  std::int64_t cols;
  bool transposed;
};

// c[m, n] = op(a) @ op(b), accumulated in float32; c is row-major m x n. Large products are split
// by output columns over the GEMM threads (set_opcheck_gemm_threads).
void gemm(const GemmOperand& a, const GemmOperand& b, float* c);

namespace detail {
// Columns [col0, col0 + cols) of c = op(a) @ op(b); one per instruction-set variant.
using GemmBlock = void (*)(const GemmOperand& a, const GemmOperand& b, float* c, std::int64_t col0, std::int64_t cols);
void gemm_block_baseline(const GemmOperand& a, const GemmOperand& b, float* c, std::int64_t col0, std::int64_t cols);
void gemm_block_avx2(const GemmOperand& a, const GemmOperand& b, float* c, std::int64_t col0, std::int64_t cols);
void gemm_block_avx512(const GemmOperand& a, const GemmOperand& b, float* c, std::int64_t col0, std::int64_t cols);
}  // namespace detail

}  // namespace aitdb::compare::opcheck
