// OpenBLAS's sgemm, loaded on first use and run on the calling thread only.
//
// glassbox splits every BLAS product over its own thread pool, so OpenBLAS's threads are never
// wanted. Linked the usual way, the threaded OpenBLAS would start them when the program loads,
// and they spin on the cores for about 0.1 s in every process, BLAS used or not (on two cores,
// the reference tests run two at a time took 52 s instead of 40). Loaded here instead, after
// OPENBLAS_NUM_THREADS=1 is set, it starts none; and a program that never takes a BLAS path
// (an AVX-512 machine, mostly) never loads it. Thread-safe: the threaded OpenBLAS takes calls
// from several threads at once.
#pragma once

namespace gb::blas {

// C [m, n] = alpha · op(A) [m, k] @ op(B) [k, n] + beta · C, all row-major; op transposes when
// asked (A is then stored [k, m], B [n, k]). The first call loads OpenBLAS (set to one thread
// also when the program had already loaded it threaded) and throws gb::Error naming the library
// when it cannot be loaded.
void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc);

}  // namespace gb::blas
