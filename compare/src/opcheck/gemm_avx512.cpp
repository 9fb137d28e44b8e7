// The GEMM block for CPUs with AVX-512 F/DQ/VL (compiled with those flags; called only after a CPU
// check). Eigen's namespace is renamed so its AVX-512 templates stay apart from the others.
#define Eigen aitdb_eigen_avx512
#define AITDB_GEMM_BLOCK gemm_block_avx512
#include "gemm_variant.inc"
