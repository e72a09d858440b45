// Helpers shared by the AVX2 and AVX-512 kernel files; include only from files compiled with at
// least the AVX2 + FMA flags. Internal linkage on purpose: each kernel file gets its own copy,
// compiled for its own instruction set, so the linker can never hand an AVX-512 build of a helper
// to the AVX2 path (which must run on CPUs without AVX-512).
#pragma once

#include <immintrin.h>

#include <cstring>

#include "ops/kernels/kernels.h"

namespace gb::ops::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): see above

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Loaders of 8 float weights (or x values) as f32.
struct F32x8 {
  using T = float;
  static __m256 load(const float* p) { return _mm256_loadu_ps(p); }
};
struct F16x8 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
};
struct BF16x8 {
  using T = uint16_t;
  static __m256 load(const uint16_t* p) {
    const __m256i wide =
        _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(wide, 16));
  }
};

// The first n < 8 values at p, zero-padded, loaded by L.
template <class L>
__m256 load_part(const typename L::T* p, int64_t n) {
  typename L::T tmp[8] = {};
  std::memcpy(tmp, p, size_t(n) * sizeof(tmp[0]));
  return L::load(tmp);
}

// One x row (decoding): y[r] = W[r] · x for r in [r0, r1), 8 columns per step. Each weight row is
// read whole, into four chains, before the next (one stream for the hardware prefetcher, as in
// tiles.h), and four rows' sums are reduced across in one go: one horizontal reduction and one
// store per four rows instead of per row. L loads the weights and X the x values, 8 at a time
// (F32x8, F16x8, BF16x8).
template <class L, class X>
void float_gemv(const Product& p, int64_t r0, int64_t r1) {
  using T = typename L::T;
  constexpr int W = 8, U = 4;
  const int64_t k = p.k, full = k / W * W;
  // the 8 partial sums of W[r] · x
  auto row_sums = [&](const T* w) {
    __m256 acc[U] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                     _mm256_setzero_ps()};
    int64_t j = 0;
    for (; j + U * W <= full; j += U * W)
      for (int u = 0; u < U; ++u)
        acc[u] = _mm256_fmadd_ps(L::load(w + j + u * W), X::load(p.x + j + u * W), acc[u]);
    for (; j < full; j += W) acc[0] = _mm256_fmadd_ps(L::load(w + j), X::load(p.x + j), acc[0]);
    if (k > full)
      acc[1] = _mm256_fmadd_ps(load_part<L>(w + full, k - full), load_part<X>(p.x + full, k - full),
                               acc[1]);
    return _mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3]));
  };
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    __m256 s[4];
    for (int a = 0; a < 4; ++a) s[a] = row_sums(weight_row<T>(p, r + a));
    // lane a of each 128-bit half: row a's sums 0-3 and 4-7, pairwise added
    const __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s[0], s[1]), _mm256_hadd_ps(s[2], s[3]));
    __m128 y = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    if (p.bias) y = _mm_add_ps(y, _mm_loadu_ps(p.bias + r));
    _mm_storeu_ps(p.y + r, y);
  }
  for (; r < r1; ++r) p.y[r] = hsum(row_sums(weight_row<T>(p, r))) + (p.bias ? p.bias[r] : 0.0f);
}

// The 32 nibbles of a Q4_0 block as bytes 0..15, in element order.
inline __m256i q4_nibbles(const uint8_t* qs) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(v), _mm_srli_epi16(v, 4), 1);
  return _mm256_and_si256(both, _mm256_set1_epi8(0x0f));
}

// y[i + c, r + a] = acc[a][c] summed (+ bias)
template <int R, int C>
void store(const Product& p, int64_t r, int64_t i, const __m256 (&acc)[R][C]) {
  for (int a = 0; a < R; ++a) {
    const float b = p.bias ? p.bias[r + a] : 0.0f;
    for (int c = 0; c < C; ++c) p.y[(i + c) * p.n + r + a] = hsum(acc[a][c]) + b;
  }
}

// Every accumulator of a tile set to 0.
template <int U, int R, int C>
void zero(__m256 (&acc)[U][R][C]) {
  for (auto& chain : acc)
    for (auto& row : chain)
      for (auto& v : row) v = _mm256_setzero_ps();
}

// acc[0] += acc[1] + ... (the independent chains of a tile)
template <int U, int R, int C>
void sum_chains(__m256 (&acc)[U][R][C]) {
  for (int u = 1; u < U; ++u)
    for (int a = 0; a < R; ++a)
      for (int c = 0; c < C; ++c) acc[0][a][c] = _mm256_add_ps(acc[0][a][c], acc[u][a][c]);
}

}  // namespace
}  // namespace gb::ops::kernels
