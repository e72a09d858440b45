// The loop shared by the SIMD kernels: a thread's rows of W are cut into panels small enough to
// stay in L2 cache while every x row passes over them, and each panel into tiles of K::kRows weight
// rows x K::kCols x rows, so that each weight block loaded is used for several x rows (and each x
// block for several weight rows).
//
// For m = 1 (GEMV) the tiles are one weight row, spread over several accumulators: streaming
// rows one at a time is what the hardware prefetcher follows (Zen 4, a 125M Llama decoding from
// DRAM, one thread: Q8_0/Q4_0 35% faster than four rows side by side, f16 2.4x and f32 1.6x;
// four rows interleaved 1.5 KiB apart defeat it). The SIMD float kernels take one x row in a loop
// of their own instead (float_gemv, avx_common.h).
//
// K provides kRows, kCols and `template <int R, int C> static void tile(p, r, i)`
// computing y[i .. i+C, r .. r+R]. Instantiate only with kernel types in an unnamed namespace, so
// that every instantiation stays inside its translation unit (see kernels.h).
#pragma once

#include "ops/kernels/kernels.h"

namespace gb::ops::kernels {

inline constexpr int64_t kPanelBytes = 256 * 1024;

namespace {  // NOLINT: one copy per kernel file (T may be float, shared by every ISA's file)

// w[a] = row r + a of W, a < R.
template <class T, int R>
void weight_rows(const Product& p, int64_t r, const T* (&w)[R]) {
  for (int a = 0; a < R; ++a) w[a] = weight_row<T>(p, r + a);
}

}  // namespace

// Calls the tile of R weight rows and `cols` (<= C) x rows.
template <class K, int R, int C = K::kCols>
void tile_cols(const Product& p, int64_t r, int64_t i, int64_t cols) {
  if constexpr (C > 1) {
    if (cols < C) return tile_cols<K, R, C - 1>(p, r, i, cols);
  }
  K::template tile<R, C>(p, r, i);
}

// Independent accumulators per output of an R x C tile, so that at least 4 FMA chains are in
// flight (an FMA takes 4 cycles; fewer chains would wait on it).
template <int R, int C>
inline constexpr int kChains = (R * C) < 4 ? 4 / (R * C) : 1;

// Calls step(s, u) for s in [0, n), with consecutive s on different chains u < U.
template <int U, typename Step>
void unrolled(int64_t n, Step&& step) {
  int64_t s = 0;
  for (; s + U <= n; s += U)
    for (int u = 0; u < U; ++u) step(s + u, u);
  for (; s < n; ++s) step(s, 0);
}

template <class K, int64_t R>
void tiled_panels(const Product& p, int64_t r0, int64_t r1) {
  constexpr int64_t C = K::kCols;
  int64_t panel = kPanelBytes / p.w_row_bytes / R * R;
  if (panel < R) panel = R;
  for (int64_t pr = r0; pr < r1; pr += panel) {
    const int64_t pe = r1 - pr < panel ? r1 : pr + panel;
    for (int64_t i = 0; i < p.m; i += C) {
      const int64_t cols = p.m - i < C ? p.m - i : C;
      int64_t r = pr;
      for (; r + R <= pe; r += R) tile_cols<K, R>(p, r, i, cols);
      for (; r < pe; ++r) tile_cols<K, 1>(p, r, i, cols);
    }
  }
}

template <class K>
void tiled_rows(const Product& p, int64_t r0, int64_t r1) {
  if (p.m == 1) return tiled_panels<K, 1>(p, r0, r1);
  tiled_panels<K, K::kRows>(p, r0, r1);
}

}  // namespace gb::ops::kernels
