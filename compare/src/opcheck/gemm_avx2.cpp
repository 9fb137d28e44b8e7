// The GEMM block for CPUs with AVX2 and FMA (compiled with -mavx2 -mfma; called only after a CPU
// check). Eigen's namespace is renamed so its AVX2 templates stay apart from the baseline ones.
#define Eigen aitdb_eigen_avx2
#define AITDB_GEMM_BLOCK gemm_block_avx2
#include "gemm_variant.inc"
