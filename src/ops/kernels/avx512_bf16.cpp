// BF16 weights with the AVX512_BF16 dot-product instruction (this file is compiled with the
// AVX-512 flags plus -mavx512bf16).
//
// vdpbf16ps multiplies pairs of bf16 values and adds both products to an f32 lane, 32 columns per
// 512-bit step: twice the multiply-adds of f32 FMAs. Both operands must be bf16, so x is rounded
// to bf16 first (nearest even; relative error <= 2^-8 per element), as llama.cpp does for its
// BF16 weights. Used for m > 1 only, and only when allowed (ops::set_bf16_round_activations).
#include <immintrin.h>

#include <type_traits>

#include "ops/kernels/kernels.h"
#include "ops/kernels/tiles.h"

namespace gb::ops::kernels {
namespace {

float hsum(__m512 v) {
  const __m256 h = _mm512_castps512_ps256(_mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, 0x4e)));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// 32 bf16 values at p (only the lanes in m unless `full`)
template <typename Full>
__m512i load(const uint16_t* p, __mmask32 m, Full full) {
  return full ? _mm512_loadu_si512(p) : _mm512_maskz_loadu_epi16(m, p);
}

struct Bf16Tiles {
  static constexpr int kRows = 4, kCols = 4;

  template <int R, int C>
  static void tile(const Product& p, int64_t r, int64_t i) {
    const uint16_t* w[R];
    for (int a = 0; a < R; ++a)
      w[a] = reinterpret_cast<const uint16_t*>(static_cast<const char*>(p.w) +
                                               (r + a) * p.w_row_bytes);
    const uint16_t* x[C];
    for (int c = 0; c < C; ++c) x[c] = p.xb + (i + c) * p.k;
    constexpr int U = kChains<R, C>;
    __m512 acc[U][R][C];
    for (auto& chain : acc)
      for (auto& row : chain)
        for (auto& v : row) v = _mm512_setzero_ps();
    // columns j .. j+32 into chain u; `m` masks the last, partial step
    auto step = [&](int64_t j, int u, __mmask32 m, auto full) {
      __m512bh xv[C];
      for (int c = 0; c < C; ++c) xv[c] = (__m512bh)load(x[c] + j, m, full);
      for (int a = 0; a < R; ++a) {
        const __m512bh wv = (__m512bh)load(w[a] + j, m, full);
        for (int c = 0; c < C; ++c) acc[u][a][c] = _mm512_dpbf16_ps(acc[u][a][c], wv, xv[c]);
      }
    };
    unrolled<U>(p.k / 32, [&](int64_t s, int u) { step(s * 32, u, 0, std::true_type{}); });
    if (p.k % 32) {
      step(p.k / 32 * 32, 0, __mmask32((uint64_t(1) << (p.k % 32)) - 1), std::false_type{});
    }
    for (int u = 1; u < U; ++u)
      for (int a = 0; a < R; ++a)
        for (int c = 0; c < C; ++c) acc[0][a][c] = _mm512_add_ps(acc[0][a][c], acc[u][a][c]);
    for (int a = 0; a < R; ++a) {
      const float b = p.bias ? p.bias[r + a] : 0.0f;
      for (int c = 0; c < C; ++c) p.y[(i + c) * p.n + r + a] = hsum(acc[0][a][c]) + b;
    }
  }
};

void to_bf16(const float* x, int64_t n, uint16_t* out) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + j));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + j), (__m256i)h);
  }
  if (j < n) {
    const __mmask16 m = __mmask16((1u << (n - j)) - 1);
    const __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, x + j));
    _mm256_mask_storeu_epi16(out + j, m, (__m256i)h);
  }
}

Kernels make_table() {
  Kernels t = avx512_kernels();
  t.name = "avx512+bf16";
  t.by_dtype[int(DType::BF16)].rounded = {.x_format = XFormat::BF16, .rows = tiled_rows<Bf16Tiles>};
  t.to_bf16 = to_bf16;
  return t;
}

}  // namespace

const Kernels& avx512_bf16_kernels() {
  static const Kernels table = make_table();
  return table;
}

}  // namespace gb::ops::kernels
