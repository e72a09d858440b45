// Helpers shared by the AVX2 and AVX-512 kernel files; include only from files compiled with at
// least the AVX2 + FMA flags. Internal linkage on purpose: each kernel file gets its own copy,
// compiled for its own instruction set, so the linker can never hand an AVX-512 build of a helper
// to the AVX2 path (which must run on CPUs without AVX-512).
#pragma once

#include <immintrin.h>

#include "ops/kernels/kernels.h"

namespace gb::ops::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): see above

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
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
