// AVX2 + FMA + F16C kernels (this file is compiled with -mavx2 -mfma -mf16c).
//
// Float weights: 8 columns per step, converted to f32 in registers (F16C for f16, a 16-bit shift
// for bf16), one FMA per weight row and x row. Q8_0/Q4_0 weights: 32-column blocks, int8 x int8
// products summed with maddubs/madd (the signs moved onto x so that the left operand is unsigned),
// then scaled by the weight and activation block scales into f32 accumulators.
#include <immintrin.h>

#include <cstring>

#include "ops/kernels/avx_common.h"
#include "ops/kernels/kernels.h"
#include "ops/kernels/tiles.h"

namespace gb::ops::kernels {
namespace {

int32_t hsum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

float hmax(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// ---- float weights ------------------------------------------------------------------------

// The loaders are F32x8, F16x8 and BF16x8 (avx_common.h).

template <class L>
struct FloatTiles {
  static constexpr int kRows = 4, kCols = 3;

  template <int R, int C>
  static void tile(const Product& p, int64_t r, int64_t i) {
    using T = typename L::T;
    constexpr int U = kChains<R, C>;
    const T* w[R];
    weight_rows(p, r, w);
    const float* x[C];
    for (int c = 0; c < C; ++c) x[c] = p.x + (i + c) * p.k;
    __m256 acc[U][R][C];
    zero(acc);
    // columns j .. j+8 into chain u; `part` < 8: only that many (the tail)
    auto step = [&](int64_t j, int u, int64_t part) {
      __m256 xv[C];
      for (int c = 0; c < C; ++c)
        xv[c] = part == 8 ? F32x8::load(x[c] + j) : load_part<F32x8>(x[c] + j, part);
      for (int a = 0; a < R; ++a) {
        const __m256 wv = part == 8 ? L::load(w[a] + j) : load_part<L>(w[a] + j, part);
        for (int c = 0; c < C; ++c) acc[u][a][c] = _mm256_fmadd_ps(wv, xv[c], acc[u][a][c]);
      }
    };
    unrolled<U>(p.k / 8, [&](int64_t s, int u) { step(s * 8, u, 8); });
    if (p.k % 8) step(p.k / 8 * 8, 0, p.k % 8);
    sum_chains(acc);
    store<R, C>(p, r, i, acc[0]);
  }
};

// Float weights: float_gemv (avx_common.h) for one x row, the tiles for more. One x row,
// GLASSBOX_ISA=avx2 on a Zen 4, llama100m, one thread pinned, decode @128, tokens/s against the
// one-row tiles: f16 113-116 -> 123-130, bf16 141-151 -> 142-154, f32 unchanged (58-60).
template <class L>
void float_rows(const Product& p, int64_t r0, int64_t r1) {
  if (p.m == 1) return float_gemv<L, F32x8>(p, r0, r1);
  tiled_rows<FloatTiles<L>>(p, r0, r1);
}

template <class L>
void float_to_f32(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const typename L::T*>(src);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(dst + j, L::load(s + j));
  if (j < n) {
    float tmp[8];
    _mm256_storeu_ps(tmp, load_part<L>(s + j, n - j));
    std::memcpy(dst + j, tmp, size_t(n - j) * 4);
  }
}

// ---- quantized weights --------------------------------------------------------------------

// Σ_j w_j x_j of a Q8_0 block (8 partial sums): maddubs wants an unsigned left operand, so take
// |w| and move w's sign onto x.
struct Q8_0 {
  using Block = BlockQ8_0;
  static __m256i prepare(const Block& b) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
  }
  static __m256i dot(__m256i w, __m256i x, int32_t /*x_sum*/) {
    const __m256i ones = _mm256_set1_epi16(1);
    const __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
    return _mm256_madd_epi16(pairs, ones);
  }
};

// Σ_j (nibble_j - 8) x_j = Σ_j nibble_j x_j - 8 Σ_j x_j: the nibbles are already unsigned, and the
// -8 Σ x correction is spread over the 8 lanes as -Σ x each.
struct Q4_0 {
  using Block = BlockQ4_0;
  static __m256i prepare(const Block& b) { return q4_nibbles(b.qs); }
  static __m256i dot(__m256i w, __m256i x, int32_t x_sum) {
    const __m256i pairs = _mm256_maddubs_epi16(w, x);
    const __m256i sums = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
    return _mm256_sub_epi32(sums, _mm256_set1_epi32(x_sum));
  }
};

template <class Q>
struct QuantTiles {
  static constexpr int kRows = 4, kCols = 2;

  template <int R, int C>
  static void tile(const Product& p, int64_t r, int64_t i) {
    using Block = typename Q::Block;
    constexpr int U = kChains<R, C>;
    const float* f16 = f16_table();
    const int64_t nb = p.k / kQuantBlock;
    const Block* w[R];
    weight_rows(p, r, w);
    __m256 acc[U][R][C];
    zero(acc);
    unrolled<U>(nb, [&](int64_t b, int u) {
      __m256i xv[C];
      __m256 dx[C];
      int32_t xs[C];
      for (int c = 0; c < C; ++c) {
        const int64_t xb = (i + c) * nb + b;
        xv[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.xq.q + xb * kQuantBlock));
        dx[c] = _mm256_set1_ps(p.xq.d[xb]);
        xs[c] = p.xq.s[xb];
      }
      for (int a = 0; a < R; ++a) {
        const __m256i wv = Q::prepare(w[a][b]);
        const __m256 dw = _mm256_set1_ps(f16[w[a][b].d]);
        for (int c = 0; c < C; ++c) {
          const __m256 sums = _mm256_cvtepi32_ps(Q::dot(wv, xv[c], xs[c]));
          acc[u][a][c] = _mm256_fmadd_ps(_mm256_mul_ps(sums, dx[c]), dw, acc[u][a][c]);
        }
      }
    });
    sum_chains(acc);
    store<R, C>(p, r, i, acc[0]);
  }
};

// Quantized weights times f32 x (no activation rounding): each block's quants widened to f32 in
// registers, dotted with x, and the block's sum scaled by its d. About half the speed of the
// integer kernels; from 32-64 rows of x on, BLAS on f32 panels measured faster.
struct Q8_0Widen {
  using Block = BlockQ8_0;
  // the 32 quants as 4 x 8 f32
  static void widen(const Block& b, __m256 (&q)[4]) {
    for (int t = 0; t < 4; ++t) {
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b.qs + 8 * t));
      q[t] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v));
    }
  }
};

struct Q4_0Widen {
  using Block = BlockQ4_0;
  static void widen(const Block& b, __m256 (&q)[4]) {
    const __m256i v = _mm256_sub_epi8(q4_nibbles(b.qs), _mm256_set1_epi8(8));
    const __m128i half[2] = {_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)};
    for (int t = 0; t < 4; ++t) {
      const __m128i bytes = t % 2 ? _mm_srli_si128(half[t / 2], 8) : half[t / 2];
      q[t] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
    }
  }
};

template <class Q>
struct ExactQuantTiles {
  static constexpr int kRows = 4, kCols = 3;

  template <int R, int C>
  static void tile(const Product& p, int64_t r, int64_t i) {
    using Block = typename Q::Block;
    constexpr int U = kChains<R, C>;
    const float* f16 = f16_table();
    const int64_t nb = p.k / kQuantBlock;
    const Block* w[R];
    weight_rows(p, r, w);
    const float* x[C];
    for (int c = 0; c < C; ++c) x[c] = p.x + (i + c) * p.k;
    __m256 acc[U][R][C];
    zero(acc);
    unrolled<U>(nb, [&](int64_t b, int u) {
      for (int a = 0; a < R; ++a) {
        __m256 wv[4];
        Q::widen(w[a][b], wv);
        const __m256 d = _mm256_set1_ps(f16[w[a][b].d]);
        for (int c = 0; c < C; ++c) {
          const float* xb = x[c] + b * kQuantBlock;
          // Σ q x over the block in two independent halves, then scaled by d once
          __m256 s0 = _mm256_mul_ps(wv[0], _mm256_loadu_ps(xb));
          __m256 s1 = _mm256_mul_ps(wv[1], _mm256_loadu_ps(xb + 8));
          s0 = _mm256_fmadd_ps(wv[2], _mm256_loadu_ps(xb + 16), s0);
          s1 = _mm256_fmadd_ps(wv[3], _mm256_loadu_ps(xb + 24), s1);
          acc[u][a][c] = _mm256_fmadd_ps(_mm256_add_ps(s0, s1), d, acc[u][a][c]);
        }
      }
    });
    sum_chains(acc);
    store<R, C>(p, r, i, acc[0]);
  }
};

void q8_0_to_f32(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQuantBlock; ++i, dst += kQuantBlock) {
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
    for (int t = 0; t < 4; ++t) {
      const __m128i q = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b[i].qs + 8 * t));
      _mm256_storeu_ps(dst + 8 * t, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(q))));
    }
  }
}

void q4_0_to_f32(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQuantBlock; ++i, dst += kQuantBlock) {
    const __m256 d = _mm256_set1_ps(_cvtsh_ss(b[i].d));
    alignas(32) int8_t q[32];
    _mm256_store_si256(reinterpret_cast<__m256i*>(q),
                       _mm256_sub_epi8(q4_nibbles(b[i].qs), _mm256_set1_epi8(8)));
    for (int t = 0; t < 4; ++t) {
      const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + 8 * t));
      _mm256_storeu_ps(dst + 8 * t, _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(v))));
    }
  }
}

// ---- activation quantisation --------------------------------------------------------------

// Rounds to the nearest integer, halves away from zero (like std::lround).
__m256 round_half_away(__m256 v) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  const __m256 t = _mm256_round_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_andnot_ps(sign, _mm256_sub_ps(v, t));                 // exact
  const __m256 step = _mm256_or_ps(_mm256_and_ps(v, sign), _mm256_set1_ps(1.0f));  // ±1
  const __m256 up = _mm256_cmp_ps(frac, _mm256_set1_ps(0.5f), _CMP_GE_OQ);
  return _mm256_add_ps(t, _mm256_and_ps(up, step));
}

void quantize_q8(const float* x, int64_t n, float* d, int8_t* q, int32_t* s) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t b = 0; b < n / kQuantBlock; ++b, x += kQuantBlock, q += kQuantBlock) {
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int t = 0; t < 4; ++t) {
      v[t] = _mm256_loadu_ps(x + 8 * t);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[t]));
    }
    d[b] = hmax(amax) / 127.0f;
    const __m256 id = _mm256_set1_ps(d[b] != 0 ? 1.0f / d[b] : 0.0f);
    __m256i qi[4];
    for (int t = 0; t < 4; ++t)
      qi[t] = _mm256_cvttps_epi32(round_half_away(_mm256_mul_ps(v[t], id)));
    s[b] = hsum(_mm256_add_epi32(_mm256_add_epi32(qi[0], qi[1]), _mm256_add_epi32(qi[2], qi[3])));
    // packs work per 128-bit lane: the 32-bit groups come out as 0,2,4,6,1,3,5,7 of the wanted
    // order, which the permute undoes.
    const __m256i q16a = _mm256_packs_epi32(qi[0], qi[1]), q16b = _mm256_packs_epi32(qi[2], qi[3]);
    const __m256i q8 = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(q16a, q16b),
                                                   _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q), q8);
  }
}

constexpr Kernels kAvx2 = {
    .name = "avx2",
    .by_dtype =
        {
            {.to_f32 = float_to_f32<F32x8>,
             .exact = {.rows = float_rows<F32x8>, .blas_min_rows = 128},
             .rounded = {}},
            {.to_f32 = float_to_f32<F16x8>, .exact = {.rows = float_rows<F16x8>}, .rounded = {}},
            {.to_f32 = float_to_f32<BF16x8>,
             .exact = {.rows = float_rows<BF16x8>, .blas_min_rows = 256},
             .rounded = {}},
            {.to_f32 = q8_0_to_f32,
             .exact = {.rows = tiled_rows<ExactQuantTiles<Q8_0Widen>>, .blas_min_rows = 64},
             .rounded = {.x_format = XFormat::Q8,
                         .rows = tiled_rows<QuantTiles<Q8_0>>,
                         .blas_min_rows = 256}},
            {.to_f32 = q4_0_to_f32,
             .exact = {.rows = tiled_rows<ExactQuantTiles<Q4_0Widen>>, .blas_min_rows = 32},
             .rounded = {.x_format = XFormat::Q8,
                         .rows = tiled_rows<QuantTiles<Q4_0>>,
                         .blas_min_rows = 256}},
        },
    .quantize_q8 = quantize_q8,
};

}  // namespace

const Kernels& avx2_kernels() {
  return kAvx2;
}

}  // namespace gb::ops::kernels
