// Float weights times many rows of x (prefill), with x packed in panels of 16 rows (this file is
// compiled with the AVX-512 flags). F16 and BF16 weights are converted to f32 a tile (8 rows) at
// a time, once per 128 x rows, and then multiplied as F32 ones.
//
// The float tiles of avx512.cpp take dot products along k: each step loads 4 weight and 4 x
// vectors for 16 FMAs, every output ends in a horizontal sum, and at F32's width 8 (see there)
// they reach half the FMA rate. Here a thread first packs x transposed, 16 rows at a time:
// panel[j] holds column j of those rows, one 512-bit register. A tile of R weight rows × C
// panels then multiplies each weight, broadcast to all 16 lanes, by C panel registers: R·C FMAs
// per column for C vector loads and R 4-byte broadcasts (which never straddle a cache line,
// however the weights are aligned), no horizontal sums. The R·C accumulators are transposed in
// registers at the end, so each x row's R outputs go out in one store: written lane by lane
// (R·C·16 scalar stores to 16 rows of y a row of y apart) they took 37% of the time at k 768.
// While a tile makes its first pass, the next tile's weight rows are prefetched into L2 (they
// stream from memory, 8 rows at once, too short a stream at k 768 for the hardware prefetcher
// to get ahead of: llama100m f32 prefill 128, one thread, 6-8% faster).
//
// Zen 5, one thread, GFLOP/s against OpenBLAS sgemm (Haswell kernels, 85-100): n 4096 k 4096 m
// 128: 177-178 (162-166 with the lane-by-lane stores); n 3072 k 768 m 128: 193-195 (123-136).
// llama100m f32 prefill 128, one thread: 817-853 -> 1049-1088 tokens/s.
#include <immintrin.h>

#include <cstdint>

#include "ops/kernels/aligned_scratch.h"
#include "ops/kernels/kernels.h"

namespace gb::ops::kernels {
namespace {

constexpr int kLanes = 16;       // x rows per panel
constexpr int64_t kChunk = 128;  // x rows packed at a time (bounds the scratch: kChunk·k floats)
constexpr int kTileRows = 8;     // weight rows per tile
constexpr int kTilePanels = 2;   // panels per tile (32 x rows)

// v[i] lane j <- v[j] lane i (a 16 × 16 transpose of 32-bit lanes, in registers)
void transpose16(__m512 (&v)[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
  }
  for (int i = 0; i < 16; i += 4)
    for (int h = 0; h < 2; ++h) {
      const __m512d a = _mm512_castps_pd(t[i + h]), b = _mm512_castps_pd(t[i + 2 + h]);
      v[i + 2 * h] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      v[i + 2 * h + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  for (int i = 0; i < 16; i += 8)
    for (int h = 0; h < 4; ++h) {
      t[i + h] = _mm512_shuffle_f32x4(v[i + h], v[i + 4 + h], 0x88);
      t[i + 4 + h] = _mm512_shuffle_f32x4(v[i + h], v[i + 4 + h], 0xdd);
    }
  for (int h = 0; h < 8; ++h) {
    v[h] = _mm512_shuffle_f32x4(t[h], t[h + 8], 0x88);
    v[h + 8] = _mm512_shuffle_f32x4(t[h], t[h + 8], 0xdd);
  }
}

// out[j] lane l = x[i0 + l, j] for j < k (lanes past row m zero): out is [k][16].
void pack_panel(const Product& p, int64_t i0, float* out) {
  const int64_t rows = p.m - i0 < kLanes ? p.m - i0 : kLanes;
  for (int64_t j = 0; j < p.k; j += 16) {
    const int64_t cols = p.k - j < 16 ? p.k - j : 16;
    const __mmask16 mask = __mmask16((1u << cols) - 1);
    __m512 v[16];
    for (int l = 0; l < 16; ++l)
      v[l] = l < rows ? _mm512_maskz_loadu_ps(mask, p.x + (i0 + l) * p.k + j) : _mm512_setzero_ps();
    transpose16(v);
    for (int64_t c = 0; c < cols; ++c) _mm512_store_ps(out + (j + c) * kLanes, v[c]);
  }
}

// The next tile's weights in their stored form, prefetched into L2 while a tile makes its first
// pass: `step` bytes per column, one prefetch per cache line (at the columns j with
// j & every_mask == 0). at == nullptr: none.
struct NextTile {
  const char* at = nullptr;
  int64_t step = 0, every_mask = 0;
};

// y[i0 + 16c + l, r + a] for a < R, c < C, l < 16 (rows past m skipped), from panels
// panel + c·k·16 and weight rows w + a·k (f32).
template <int R, int C>
void tile(const Product& p, const float* panel, const float* w0, int64_t r, int64_t i0,
          NextTile next) {
  const float* w[R];
  for (int a = 0; a < R; ++a) w[a] = w0 + a * p.k;
  __m512 acc[R][C];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t j = 0; j < p.k; ++j) {
    __m512 xv[C];
    for (int c = 0; c < C; ++c) xv[c] = _mm512_load_ps(panel + (c * p.k + j) * kLanes);
    if (next.at && (j & next.every_mask) == 0) _mm_prefetch(next.at + j * next.step, _MM_HINT_T1);
    for (int a = 0; a < R; ++a) {
      const __m512 wv = _mm512_set1_ps(w[a][j]);
      for (int c = 0; c < C; ++c) acc[a][c] = _mm512_fmadd_ps(wv, xv[c], acc[a][c]);
    }
  }
  // Transposed in registers: v[l] lanes a < R = y[i0 + 16c + l, r + a], one store per x row.
  static_assert(R <= kLanes);
  const __mmask16 cols = __mmask16((1u << R) - 1);
  const __m512 bias = p.bias ? _mm512_maskz_loadu_ps(cols, p.bias + r) : _mm512_setzero_ps();
  for (int c = 0; c < C; ++c) {
    const int64_t first = i0 + c * kLanes;
    const int64_t rows = p.m - first < kLanes ? p.m - first : kLanes;
    __m512 v[kLanes];
    for (int a = 0; a < kLanes; ++a) v[a] = a < R ? acc[a][c] : _mm512_setzero_ps();
    transpose16(v);
    for (int64_t l = 0; l < rows; ++l)
      _mm512_mask_storeu_ps(p.y + (first + l) * p.n + r, cols, _mm512_add_ps(v[l], bias));
  }
}

// tile<R, C> for `rows` (<= R) weight rows
template <int C, int R = kTileRows>
void tile_rows(const Product& p, const float* panel, const float* w, int64_t r, int64_t i0,
               int64_t rows, NextTile next) {
  if constexpr (R > 1) {
    if (rows < R) return tile_rows<C, R - 1>(p, panel, w, r, i0, rows, next);
  }
  tile<R, C>(p, panel, w, r, i0, next);
}

}  // namespace

void avx512_x_panel_rows(const Product& p, int64_t r0, int64_t r1, ToF32Fn to_f32) {
  thread_local AlignedScratch<float> scratch;    // [kChunk / 16][k][16]
  thread_local AlignedScratch<float> converted;  // [kTileRows][k]: a tile's rows, unless F32
  float* panels = scratch.get(kChunk * p.k);
  float* rows_f32 = to_f32 ? converted.get(kTileRows * p.k) : nullptr;
  const char* w = static_cast<const char*>(p.w);
  NextTile next{.step = kTileRows * p.w_row_bytes / p.k};  // bytes of a tile per column
  int64_t per_line = 1;  // columns per cache line, rounded down to a power of two
  while (per_line * 2 * next.step <= 64) per_line *= 2;
  next.every_mask = per_line - 1;
  for (int64_t c0 = 0; c0 < p.m; c0 += kChunk) {
    const int64_t rows = p.m - c0 < kChunk ? p.m - c0 : kChunk;
    const int64_t n_panels = (rows + kLanes - 1) / kLanes;
    for (int64_t q = 0; q < n_panels; ++q)
      pack_panel(p, c0 + q * kLanes, panels + q * p.k * kLanes);
    for (int64_t r = r0; r < r1; r += kTileRows) {
      const int64_t w_rows = r1 - r < kTileRows ? r1 - r : kTileRows;
      next.at = r + 2 * kTileRows <= r1 ? w + (r + kTileRows) * p.w_row_bytes : nullptr;
      const float* tile_w = reinterpret_cast<const float*>(w + r * p.w_row_bytes);
      if (to_f32) {
        for (int64_t a = 0; a < w_rows; ++a)
          to_f32(w + (r + a) * p.w_row_bytes, rows_f32 + a * p.k, p.k);
        tile_w = rows_f32;
      }
      const NextTile none{};  // on the later passes
      int64_t q = 0;
      for (; q + kTilePanels <= n_panels; q += kTilePanels)
        tile_rows<kTilePanels>(p, panels + q * p.k * kLanes, tile_w, r, c0 + q * kLanes, w_rows,
                               q == 0 ? next : none);
      for (; q < n_panels; ++q)
        tile_rows<1>(p, panels + q * p.k * kLanes, tile_w, r, c0 + q * kLanes, w_rows,
                     q == 0 ? next : none);
    }
  }
}

}  // namespace gb::ops::kernels
