// The largest singular values of a weight matrix, estimated by randomised subspace iteration
// (Halko, Martinsson & Tropp 2011, "Finding structure with randomness", algorithm 4.4).
//
// For A [rows, cols] and l = values + oversampling (at most min(rows, cols)):
//   Ω [cols, l]  Gaussian, from a fixed seed (the same matrix gives the same estimate every run)
//   Q = orth(A Ω)                                              [rows, l]
//   repeat `iterations` times:  Q = orth(A orth(Aᵀ Q))
//   σ = singular values of Aᵀ Q  [cols, l]  (= those of Qᵀ A), the largest `values` of them.
// Products are f32 GEMMs (OpenBLAS, one call per thread of `pool`) on the dequantised matrix;
// orthonormalisation (modified Gram-Schmidt, twice) and the small SVD (one-sided Jacobi) are in
// double.
//
// Accuracy: each estimate is a lower bound (σ̂_j <= σ_j, Rayleigh-Ritz on a subspace); the
// relative error of σ̂_j shrinks like (σ_{l+1} / σ_j)^(2 * iterations + 1), so the top value,
// usually well separated, is near exact and values further down converge more slowly when the
// spectrum is flat.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gb {

class ThreadPool;

struct SpectrumOptions {
  int values = 8;        // how many of the largest singular values; 0: none
  int oversampling = 8;  // extra random directions searched beyond `values`
  int iterations = 6;    // subspace (power) iterations
  uint64_t seed = 0x676c617373626f78;
};

// a: [rows, cols] row-major, all values finite. Returns min(values, rows, cols) estimates,
// largest first; with or without a pool the same to float rounding. Throws gb::Error on a size
// mismatch or bad options.
std::vector<double> top_singular_values(std::span<const float> a, int64_t rows, int64_t cols,
                                        const SpectrumOptions& options = {},
                                        ThreadPool* pool = nullptr);

}  // namespace gb
