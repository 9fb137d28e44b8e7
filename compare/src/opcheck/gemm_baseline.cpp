// The GEMM block for any x86-64 (or other) CPU: Eigen at the build's default instruction set.
#define AITDB_GEMM_BLOCK gemm_block_baseline
#include "gemm_variant.inc"
