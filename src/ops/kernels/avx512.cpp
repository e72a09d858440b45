// AVX-512 kernels (this file is compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni and
// the AVX2 flags).
//
// Float weights: 16 columns per step in 512-bit registers (8 in 256-bit ones for F32 decoding,
// see F32 below), the column tail with masked loads. Q8_0/Q4_0 weights: one 32-column block per
// 256-bit register; VNNI's vpdpbusd multiplies unsigned by signed bytes and sums groups of four
// into int32 lanes. Q8_0 weights are made unsigned by flipping their top bit (w + 128), Q4_0
// nibbles are unsigned already; the added offset times Σ x is taken off through the accumulator
// the instruction starts from.
// From kPackedMinRows x rows on, Q8_0/Q4_0 go to avx512_packed.cpp instead.
#include <immintrin.h>

#include <type_traits>

#include "ops/kernels/avx_common.h"
#include "ops/kernels/kernels.h"
#include "ops/kernels/tiles.h"

namespace gb::ops::kernels {
namespace {

// (GCC 12's _mm512_reduce_* trip -Wuninitialized; these fold the halves with shuffles instead.)
__m256 fold(__m512 v, __m512 (*op)(__m512, __m512)) {
  return _mm512_castps512_ps256(op(v, _mm512_shuffle_f32x4(v, v, 0x4e)));
}

float hmax(__m512 v) {
  const __m256 h = fold(v, _mm512_max_ps);
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

int32_t hsum(__m512i v) {
  v = _mm512_add_epi32(v, _mm512_shuffle_i32x4(v, v, 0x4e));
  __m128i s = _mm_add_epi32(_mm512_castsi512_si128(v), _mm512_extracti32x4_epi32(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

// ---- float weights ------------------------------------------------------------------------

// Loaders of float weights (and of x, F32 and F32x16): T the stored type; V holds kWidth values
// as f32; the masked load reads only the lanes in `m` (zero elsewhere); X loads x rows at the
// same width.
//
// Width 16 (one 512-bit register) for F16 and BF16: each load reads 32 bytes of weights, and twice
// the FMA width wins (Zen 5, n 3072 k 768, m 128, one thread, GFLOP/s against width 8: f16 166 vs
// 108; llama100m f16 prefill 128: 564 -> 963 tokens/s). One x row has a loop of its own at width
// 8 (float_gemv). F32 stays at width 8: a 512-bit load of a weight row that is not 64-byte aligned
// (GGUF aligns tensors to 32 bytes) straddles two cache lines, which costs decoding (bound by
// memory; Zen 4: 30% slower) and, with many x rows, most of the gain (n 3072 k 768 m 128: 104-118
// GFLOP/s with weights 16 bytes off a line, 136-140 on lines, 98 at width 8). From kXPanelMinRows
// x rows on, all three go to the x panels instead (avx512_x_panels.cpp), which read F32 weights 4
// bytes at a time and convert F16 and BF16 ones a tile at a time (f16 and bf16, n 3072 k 768 m
// 128: 136-145 -> 181-185).
struct F32;
struct F32x16;
struct Width8 {
  using V = __m256;
  using Mask = __mmask8;
  using X = F32;
  static constexpr int kWidth = 8;
};
struct Width16 {
  using V = __m512;
  using Mask = __mmask16;
  using X = F32x16;
  static constexpr int kWidth = 16;
};

// OneRow: the loader of float_gemv (one x row), 8 values at a time for every type.
struct F32 : Width8 {
  using T = float;
  using OneRow = F32x8;
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const float* p, Mask m) { return _mm256_maskz_loadu_ps(m, p); }
};
struct F32x16 : Width16 {
  using T = float;
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
};
struct F16 : Width16 {
  using T = uint16_t;
  using OneRow = F16x8;
  static V load(const uint16_t* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load(const uint16_t* p, Mask m) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
  }
};
struct BF16 : Width16 {
  using T = uint16_t;
  using OneRow = BF16x8;
  static V widen(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static V load(const uint16_t* p) {
    return widen(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load(const uint16_t* p, Mask m) { return widen(_mm256_maskz_loadu_epi16(m, p)); }
};

// The register operations of the float tiles, at either width.
__m256 fmadd(__m256 a, __m256 b, __m256 c) {
  return _mm256_fmadd_ps(a, b, c);
}
__m512 fmadd(__m512 a, __m512 b, __m512 c) {
  return _mm512_fmadd_ps(a, b, c);
}
__m256 add(__m256 a, __m256 b) {
  return _mm256_add_ps(a, b);
}
__m512 add(__m512 a, __m512 b) {
  return _mm512_add_ps(a, b);
}
__m256 to256(__m256 v) {
  return v;
}  // same sum in 8 lanes
__m256 to256(__m512 v) {
  return fold(v, _mm512_add_ps);
}  // the halves added

template <class L>
struct FloatTiles {
  static constexpr int kRows = 4, kCols = 4;

  template <int R, int C>
  static void tile(const Product& p, int64_t r, int64_t i) {
    using T = typename L::T;
    using V = typename L::V;
    using X = typename L::X;
    constexpr int U = kChains<R, C>, W = L::kWidth;
    const T* w[R];
    weight_rows(p, r, w);
    const float* x[C];
    for (int c = 0; c < C; ++c) x[c] = p.x + (i + c) * p.k;
    V acc[U][R][C];
    for (auto& chain : acc)
      for (auto& row : chain)
        for (auto& v : row) v = V{};
    // columns j .. j+W into chain u; `m` masks the last, partial step
    auto step = [&](int64_t j, int u, typename L::Mask m, auto full) {
      V xv[C];
      for (int c = 0; c < C; ++c) xv[c] = full ? X::load(x[c] + j) : X::load(x[c] + j, m);
      for (int a = 0; a < R; ++a) {
        const V wv = full ? L::load(w[a] + j) : L::load(w[a] + j, m);
        for (int c = 0; c < C; ++c) acc[u][a][c] = fmadd(wv, xv[c], acc[u][a][c]);
      }
    };
    unrolled<U>(p.k / W, [&](int64_t s, int u) { step(s * W, u, 0, std::true_type{}); });
    if (p.k % W) step(p.k / W * W, 0, typename L::Mask((1u << (p.k % W)) - 1), std::false_type{});
    __m256 sum[R][C];
    for (int a = 0; a < R; ++a)
      for (int c = 0; c < C; ++c) {
        V v = acc[0][a][c];
        for (int u = 1; u < U; ++u) v = add(v, acc[u][a][c]);
        sum[a][c] = to256(v);
      }
    store<R, C>(p, r, i, sum);
  }
};

template <class L>
void float_to_f32(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const typename L::T*>(src);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) _mm512_storeu_ps(dst + j, L::load(s + j));
  if (j < n) {
    const __mmask16 m = __mmask16((1u << (n - j)) - 1);
    _mm512_mask_storeu_ps(dst + j, m, L::load(s + j, m));
  }
}

// Float weights: float_gemv (avx_common.h) for one x row, the tiles for a few, x panels
// (avx512_x_panels.cpp) for more (F16 and BF16 converted to f32 a tile at a time there).
// One x row is read 8 values at a time for every float type: Zen 4 runs the 512-bit vcvtph2ps as
// two halves, and at 16 the same loop was slower than the tiles. Zen 4, llama100m, one thread
// pinned, decode @128, tokens/s against the one-row tiles: f16 85-89 -> 112-121 (llama.cpp 113),
// bf16 133-137 -> 150-154, f32 47-51 -> 49-57; the demo model (f16) 7770-8360 -> 10240-10470.
template <class L>
void float_rows(const Product& p, int64_t r0, int64_t r1) {
  if (p.m == 1) return float_gemv<typename L::OneRow, F32x8>(p, r0, r1);
  if (p.m < kXPanelMinRows) return tiled_rows<FloatTiles<L>>(p, r0, r1);
  if constexpr (std::is_same_v<L, F32>)
    avx512_x_panel_rows(p, r0, r1, nullptr);
  else
    avx512_x_panel_rows(p, r0, r1, float_to_f32<L>);
}

// ---- quantized weights --------------------------------------------------------------------

struct Q8_0 {
  using Block = BlockQ8_0;
  // w + 128 as unsigned bytes
  static __m256i prepare(const Block& b) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    return _mm256_xor_si256(w, _mm256_set1_epi8(char(0x80)));
  }
  // Σ (w + 128) x - 128 Σ x, the correction spread over the 8 lanes
  static __m256i start(int32_t x_sum) { return _mm256_set1_epi32(-16 * x_sum); }
};

struct Q4_0 {
  using Block = BlockQ4_0;
  // nibbles 0..15 in element order (w + 8)
  static __m256i prepare(const Block& b) { return q4_nibbles(b.qs); }
  // Σ (w + 8) x - 8 Σ x
  static __m256i start(int32_t x_sum) { return _mm256_set1_epi32(-x_sum); }
};

template <class Q>
struct QuantTiles {
  static constexpr int kRows = 4, kCols = 4;

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
      __m256i xv[C], start[C];
      __m256 dx[C];
      for (int c = 0; c < C; ++c) {
        const int64_t xb = (i + c) * nb + b;
        xv[c] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.xq.q + xb * kQuantBlock));
        start[c] = Q::start(p.xq.s[xb]);
        dx[c] = _mm256_set1_ps(p.xq.d[xb]);
      }
      for (int a = 0; a < R; ++a) {
        const __m256i wv = Q::prepare(w[a][b]);
        const __m256 dw = _mm256_set1_ps(f16[w[a][b].d]);  // a broadcast operand of the FMA
        for (int c = 0; c < C; ++c) {
          const __m256 sums = _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(start[c], wv, xv[c]));
          acc[u][a][c] = _mm256_fmadd_ps(_mm256_mul_ps(sums, dx[c]), dw, acc[u][a][c]);
        }
      }
    });
    sum_chains(acc);
    store<R, C>(p, r, i, acc[0]);
  }
};

// The plain tiles for a few x rows, packed panels (avx512_packed.cpp) for more.
template <class Q, RowsFn packed>
void quant_rows(const Product& p, int64_t r0, int64_t r1) {
  if (p.m >= kPackedMinRows) return packed(p, r0, r1);
  tiled_rows<QuantTiles<Q>>(p, r0, r1);
}

void q8_0_to_f32(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQuantBlock; ++i, dst += kQuantBlock) {
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
    for (int t = 0; t < 2; ++t) {
      const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs + 16 * t));
      _mm512_storeu_ps(dst + 16 * t, _mm512_mul_ps(d, _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q))));
    }
  }
}

void q4_0_to_f32(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQuantBlock; ++i, dst += kQuantBlock) {
    const __m512 d = _mm512_set1_ps(_cvtsh_ss(b[i].d));
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b[i].qs));
    const __m128i nib[2] = {_mm_and_si128(v, _mm_set1_epi8(0x0f)),
                            _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0x0f))};
    for (int t = 0; t < 2; ++t) {
      const __m512i q = _mm512_sub_epi32(_mm512_cvtepu8_epi32(nib[t]), _mm512_set1_epi32(8));
      _mm512_storeu_ps(dst + 16 * t, _mm512_mul_ps(d, _mm512_cvtepi32_ps(q)));
    }
  }
}

// ---- activation quantisation --------------------------------------------------------------

// Rounds to the nearest integer, halves away from zero (like std::lround).
__m512 round_half_away(__m512 v) {
  const __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m512 frac = _mm512_abs_ps(_mm512_sub_ps(v, t));  // exact
  const __mmask16 up = _mm512_cmp_ps_mask(frac, _mm512_set1_ps(0.5f), _CMP_GE_OQ);
  const __m512i sign = _mm512_and_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN));
  const __m512 step =
      _mm512_castsi512_ps(_mm512_or_si512(sign, _mm512_set1_epi32(0x3f800000)));  // ±1
  return _mm512_mask_add_ps(t, up, t, step);
}

void quantize_q8(const float* x, int64_t n, float* d, int8_t* q, int32_t* s) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b, x += kQuantBlock, q += kQuantBlock) {
    const __m512 v[2] = {_mm512_loadu_ps(x), _mm512_loadu_ps(x + 16)};
    d[b] = hmax(_mm512_max_ps(_mm512_abs_ps(v[0]), _mm512_abs_ps(v[1]))) / 127.0f;
    const __m512 id = _mm512_set1_ps(d[b] != 0 ? 1.0f / d[b] : 0.0f);
    __m512i qi[2];
    for (int t = 0; t < 2; ++t) {
      qi[t] = _mm512_cvttps_epi32(round_half_away(_mm512_mul_ps(v[t], id)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + 16 * t), _mm512_cvtepi32_epi8(qi[t]));
    }
    s[b] = hsum(_mm512_add_epi32(qi[0], qi[1]));
  }
}

// Q8_0/Q4_0 with f32 x (exact) use the AVX2 kernels: the same 256-bit work, nothing to gain.
Kernels make_table() {
  const Kernels& avx2 = avx2_kernels();
  return {
      .name = "avx512",
      .by_dtype =
          {
              {.to_f32 = float_to_f32<F32x16>, .exact = {.rows = float_rows<F32>}, .rounded = {}},
              {.to_f32 = float_to_f32<F16>, .exact = {.rows = float_rows<F16>}, .rounded = {}},
              {.to_f32 = float_to_f32<BF16>, .exact = {.rows = float_rows<BF16>}, .rounded = {}},
              {.to_f32 = q8_0_to_f32,
               .exact = avx2.by_dtype[int(DType::Q8_0)].exact,
               .rounded = {.x_format = XFormat::Q8,
                           .rows = quant_rows<Q8_0, avx512_packed_q8_0_rows>}},
              {.to_f32 = q4_0_to_f32,
               .exact = avx2.by_dtype[int(DType::Q4_0)].exact,
               .rounded = {.x_format = XFormat::Q8,
                           .rows = quant_rows<Q4_0, avx512_packed_q4_0_rows>}},
          },
      .quantize_q8 = quantize_q8,
  };
}

}  // namespace

const Kernels& avx512_kernels() {
  static const Kernels table = make_table();
  return table;
}

}  // namespace gb::ops::kernels
