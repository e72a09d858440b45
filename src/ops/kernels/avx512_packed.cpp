// Q8_0 and Q4_0 weights times many rows of x in Q8 form (prefill), on panels of weight rows
// packed for VNNI (this file is compiled with the AVX-512 flags).
//
// The tiles of avx512.cpp spread the product of one weight block and one x block over the 8
// lanes of a register: every block then costs a convert, a multiply and an FMA per output, and
// every output a horizontal sum at the end. Here a thread first packs 16 weight rows at a time so
// that one 512-bit register holds 4 consecutive weights of each of the 16 rows (lane a: row a).
// vpdpbusd against 4 bytes of x broadcast to every lane then advances 16 outputs at once; a block
// costs one convert and one FMA per 16 outputs, whose lanes are already 16 consecutive values of
// a row of y. (Zen 5, one thread, m = 128: 1.7x the GFLOP/s of the same scheme on 256-bit
// registers and 8 rows, ~4x the plain tiles.) Packing a row costs about what one x row's
// products with it cost, so the packed path is for m >= kPackedMinRows (kernels.h). The packed
// panel is the thread's scratch, the size of the L2-resident panels of tiles.h: the weights
// themselves stay mapped and are never copied whole.
#include <immintrin.h>

#include <cstring>

#include "ops/kernels/aligned_scratch.h"
#include "ops/kernels/avx_common.h"
#include "ops/kernels/kernels.h"
#include "ops/kernels/tiles.h"

namespace gb::ops::kernels {
namespace {

constexpr int kGroup = 16;  // weight rows per packed group (32-bit lanes of a 512-bit register)
constexpr int kHalf = 8;    // rows packed per step (lanes of a 256-bit register)

// 16 weight rows x one 32-column block; 64-byte aligned in the panel (576 bytes).
struct PackedBlock {
  // q[g][4a + t] = row a, column 4g + t, made unsigned: w + 8 (Q4_0) or w + 128 (Q8_0)
  uint8_t q[kQuantBlock / 4][4 * kGroup];
  float d[kGroup];  // the block scale of row a (0 for the missing rows of a partial group)
};
static_assert(sizeof(PackedBlock) == 576);

// w + 128 as unsigned bytes
struct Q8_0 {
  using Block = BlockQ8_0;
  static constexpr int32_t kOffset = 128;
  static __m256i unsigned_quants(const Block& b) {
    const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs));
    return _mm256_xor_si256(w, _mm256_set1_epi8(char(0x80)));
  }
};

// the nibbles, w + 8
struct Q4_0 {
  using Block = BlockQ4_0;
  static constexpr int32_t kOffset = 8;
  static __m256i unsigned_quants(const Block& b) { return q4_nibbles(b.qs); }
};

// out[g] lane a = v[a] lane g (an 8 x 8 transpose of 32-bit lanes)
void transpose(const __m256i (&v)[kHalf], __m256i (&out)[kHalf]) {
  __m256i t[kHalf], u[kHalf];
  for (int a = 0; a < kHalf; a += 2) {
    t[a] = _mm256_unpacklo_epi32(v[a], v[a + 1]);      // lanes 0 1 | 4 5 of rows a, a+1
    t[a + 1] = _mm256_unpackhi_epi32(v[a], v[a + 1]);  // lanes 2 3 | 6 7
  }
  for (int h = 0; h < kHalf; h += 4) {                     // rows h .. h+3
    u[h + 0] = _mm256_unpacklo_epi64(t[h], t[h + 2]);      // lane 0 | 4
    u[h + 1] = _mm256_unpackhi_epi64(t[h], t[h + 2]);      // lane 1 | 5
    u[h + 2] = _mm256_unpacklo_epi64(t[h + 1], t[h + 3]);  // lane 2 | 6
    u[h + 3] = _mm256_unpackhi_epi64(t[h + 1], t[h + 3]);  // lane 3 | 7
  }
  for (int g = 0; g < 4; ++g) {
    out[g] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x20);
    out[g + 4] = _mm256_permute2x128_si256(u[g], u[g + 4], 0x31);
  }
}

// Packs `rows` (1..16) weight rows from row r into out[nb] (missing rows: zero quants, scale 0),
// 8 rows at a time: their blocks' quants transposed into the 8 lanes of a half of each q[g].
template <class Q>
void pack_group(const Product& p, int64_t r, int64_t rows, int64_t nb, PackedBlock* out) {
  using Block = typename Q::Block;
  const float* f16 = f16_table();
  const Block* w[kGroup];
  for (int a = 0; a < kGroup; ++a) w[a] = a < rows ? weight_row<Block>(p, r + a) : nullptr;
  for (int64_t b = 0; b < nb; ++b) {
    for (int half = 0; half < kGroup; half += kHalf) {
      __m256i v[kHalf], t[kHalf];
      for (int a = 0; a < kHalf; ++a) {
        const Block* row = w[half + a];
        v[a] = row ? Q::unsigned_quants(row[b]) : _mm256_setzero_si256();
        out[b].d[half + a] = row ? f16[row[b].d] : 0.0f;
      }
      transpose(v, t);
      for (int g = 0; g < kHalf; ++g)
        _mm256_store_si256(reinterpret_cast<__m256i*>(out[b].q[g] + 4 * half), t[g]);
    }
  }
}

// Brings the weight rows of the next panel into cache a slice at a time while the current one is
// multiplied: packing reads 16 rows a block at a time, interleaved streams the hardware prefetcher
// does not follow, and would otherwise wait on memory at every block, with memory idle the rest
// of the time. (llama100m q4_0 prefill 128, one thread: +8%.)
class PanelPrefetch {
 public:
  // rows [r, r1) of W, in `slices` calls of next()
  PanelPrefetch(const Product& p, int64_t r, int64_t r1, int64_t slices) {
    at_ = static_cast<const char*>(p.w) + r * p.w_row_bytes;
    end_ = at_ + (r1 > r ? (r1 - r) * p.w_row_bytes : 0);
    step_ = ((end_ - at_) / slices + 63) / 64 * 64;
  }
  void next() {
    const char* stop = end_ - at_ < step_ ? end_ : at_ + step_;
    for (; at_ < stop; at_ += 64) _mm_prefetch(at_, _MM_HINT_T1);
  }

 private:
  const char* at_;
  const char* end_;
  int64_t step_;
};

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// y[i .. i+C, r .. r + 16G] from G packed groups (panel[G][nb]); the first `rows` of them exist.
template <class Q, int G, int C>
void packed_tile(const Product& p, const PackedBlock* panel, int64_t r, int64_t rows, int64_t i) {
  const int64_t nb = p.k / kQuantBlock;
  __m512 acc[G][C];
  for (auto& row : acc)
    for (auto& v : row) v = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* xq[C];
    __m512i sums[G][C];
    for (int c = 0; c < C; ++c) {
      const int64_t xb = (i + c) * nb + b;
      xq[c] = p.xq.q + xb * kQuantBlock;
      // Σ (w + offset) x - offset Σ x
      for (int h = 0; h < G; ++h) sums[h][c] = _mm512_set1_epi32(-Q::kOffset * p.xq.s[xb]);
    }
    for (int g = 0; g < kQuantBlock / 4; ++g) {
      __m512i w[G];
      for (int h = 0; h < G; ++h) w[h] = _mm512_load_si512(panel[h * nb + b].q[g]);
      for (int c = 0; c < C; ++c) {
        const __m512i x4 = _mm512_set1_epi32(load_i32(xq[c] + 4 * g));
        for (int h = 0; h < G; ++h) sums[h][c] = _mm512_dpbusd_epi32(sums[h][c], w[h], x4);
      }
    }
    for (int h = 0; h < G; ++h) {
      const __m512 dw = _mm512_load_ps(panel[h * nb + b].d);
      for (int c = 0; c < C; ++c) {
        const __m512 scale = _mm512_mul_ps(dw, _mm512_set1_ps(p.xq.d[(i + c) * nb + b]));
        acc[h][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[h][c]), scale, acc[h][c]);
      }
    }
  }
  for (int h = 0; h < G; ++h) {
    const int64_t left = rows - h * kGroup;
    const __mmask16 m = left >= kGroup ? __mmask16(0xffff) : __mmask16((1u << left) - 1);
    const __m512 bias =
        p.bias ? _mm512_maskz_loadu_ps(m, p.bias + r + h * kGroup) : _mm512_setzero_ps();
    for (int c = 0; c < C; ++c) {
      float* y = p.y + (i + c) * p.n + r + h * kGroup;
      _mm512_mask_storeu_ps(y, m, _mm512_add_ps(acc[h][c], bias));
    }
  }
}

// A tile: 2 groups (32 weight rows) x 4 x rows, 8 accumulators and 8 block sums in registers
// (the best of 1-3 groups x 2-8 x rows measured).
constexpr int kTileGroups = 2, kTileCols = 4;

// packed_tile with `cols` (<= C) x rows
template <class Q, int G, int C = kTileCols>
void packed_tile_cols(const Product& p, const PackedBlock* panel, int64_t r, int64_t rows,
                      int64_t i, int64_t cols) {
  if constexpr (C > 1) {
    if (cols < C) return packed_tile_cols<Q, G, C - 1>(p, panel, r, rows, i, cols);
  }
  packed_tile<Q, G, C>(p, panel, r, rows, i);
}

template <class Q>
void packed_rows(const Product& p, int64_t r0, int64_t r1) {
  const int64_t nb = p.k / kQuantBlock;
  // groups per panel: an even number filling about kPanelBytes
  int64_t panel_groups = kPanelBytes / (nb * int64_t(sizeof(PackedBlock))) / kTileGroups;
  panel_groups = (panel_groups > 0 ? panel_groups : 1) * kTileGroups;
  thread_local AlignedScratch<PackedBlock> scratch;  // the thread's packed panel
  PackedBlock* panel = scratch.get(panel_groups * nb);
  for (int64_t pr = r0; pr < r1; pr += panel_groups * kGroup) {
    const int64_t pe = r1 - pr < panel_groups * kGroup ? r1 : pr + panel_groups * kGroup;
    const int64_t groups = (pe - pr + kGroup - 1) / kGroup;
    for (int64_t h = 0; h < groups; ++h) {
      const int64_t r = pr + h * kGroup;
      pack_group<Q>(p, r, pe - r < kGroup ? pe - r : kGroup, nb, panel + h * nb);
    }
    const int64_t next_end = r1 - pe < panel_groups * kGroup ? r1 : pe + panel_groups * kGroup;
    PanelPrefetch prefetch(p, pe, next_end, (p.m + kTileCols - 1) / kTileCols);
    for (int64_t i = 0; i < p.m; i += kTileCols) {
      prefetch.next();
      const int64_t cols = p.m - i < kTileCols ? p.m - i : kTileCols;
      int64_t h = 0;
      for (; h + kTileGroups <= groups; h += kTileGroups) {
        const int64_t r = pr + h * kGroup;
        packed_tile_cols<Q, kTileGroups>(p, panel + h * nb, r, pe - r, i, cols);
      }
      for (; h < groups; ++h) {
        const int64_t r = pr + h * kGroup;
        packed_tile_cols<Q, 1>(p, panel + h * nb, r, pe - r, i, cols);
      }
    }
  }
}

}  // namespace

void avx512_packed_q8_0_rows(const Product& p, int64_t r0, int64_t r1) {
  packed_rows<Q8_0>(p, r0, r1);
}

void avx512_packed_q4_0_rows(const Product& p, int64_t r0, int64_t r1) {
  packed_rows<Q4_0>(p, r0, r1);
}

}  // namespace gb::ops::kernels
