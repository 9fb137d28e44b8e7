#pragma once
// Marks a hot function template to be compiled twice, for AVX2 and for the baseline, with the
// choice made once at load time. GCC clones templates; clang (used only for the fuzz build) cannot,
// and there the baseline build is enough.
#if defined(__clang__)
#define AITDB_CLONE_FOR_AVX2
#else
#define AITDB_CLONE_FOR_AVX2 __attribute__((target_clones("avx2", "default")))
#endif
