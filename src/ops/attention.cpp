#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "ops/blas.h"
#include "ops/exp_poly.h"
#include "ops/f16_rows.h"
#include "ops/softmax.h"
#include "ops/v16.h"
#include "ops/vec.h"

namespace gb::ops {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();
constexpr int kTile = 64;         // keys per tile
constexpr int kBlockRows = 32;    // query rows (positions × heads of a group) per task
constexpr int kDirectRows = 8;    // tasks with fewer rows score keys without transposing them
constexpr int kScoreRows = 4;     // query rows scored together against a transposed tile
constexpr int kPrefetchRows = 8;  // cache rows ahead that the row loops ask the memory for

// Number of keys query i may see.
int64_t visible_keys(const AttentionDims& d, int64_t i) {
  if (!d.causal) return d.k_len;
  const int64_t n = d.q_pos0 + i + 1;
  return n < d.k_len ? n : d.k_len;
}

// The work of one task: kv head g and queries [i0, i1); its rows are (query i, query head h) for
// the heads h of g's group, row r = (i − i0)·group + (h − g·group).
struct Task {
  int g = 0;
  int64_t i0 = 0, i1 = 0;
};

struct Tasks {
  int group = 1;          // query heads per kv head
  int64_t positions = 1;  // queries per task
  int64_t blocks = 1;     // query blocks
  explicit Tasks(const AttentionDims& d)
      : group(d.n_heads / d.n_kv_heads),
        positions(std::max<int64_t>(1, kBlockRows / group)),
        blocks((d.q_len + positions - 1) / positions) {}
  int64_t count(const AttentionDims& d) const { return int64_t(d.n_kv_heads) * blocks; }
  Task operator()(const AttentionDims& d, int64_t t) const {
    const int64_t i0 = (t % blocks) * positions;
    return {int(t / blocks), i0, std::min(d.q_len, i0 + positions)};
  }
};

// Per-thread buffers of the tile loops.
struct Scratch {
  std::vector<float> kt;    // [d_head, kTile]  keys of a tile, transposed
  std::vector<float> kbuf;  // [kTile, d_head]  keys of a tile as rows (F16 cache only)
  std::vector<float> vbuf;  // [kTile, d_head]  values of a tile (F16 cache only)
  std::vector<float> s;     // [kScoreRows, kTile] scores / probabilities of a few rows
  explicit Scratch(int d_head)
      : kt(size_t(d_head) * kTile),
        kbuf(size_t(d_head) * kTile),
        vbuf(size_t(d_head) * kTile),
        s(size_t(kScoreRows) * kTile) {}
};

// kt [d_head, kTile] = rows [n, d_head] (stride apart) transposed, columns ≥ n zero; d_head a
// multiple of 16. Blocks of 16 keys × 16 dimensions, each transposed in registers by four rounds
// of pairing vectors i and i + 8 into 2i and 2i + 1 (lane k of each half to lanes 2k and 2k + 1):
// a round rotates the 8 bits of (vector, lane) left by one, so four swap them.
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void transpose_tile(
    const float* rows, int64_t stride, int64_t n, int d_head, float* kt) {
  for (int64_t j0 = 0; j0 < kTile; j0 += 16)
    for (int d0 = 0; d0 < d_head; d0 += 16) {
      V16 v[16];
#pragma GCC unroll 16
      for (int r = 0; r < 16; ++r)
        v[r] = j0 + r < n ? load16(rows + (j0 + r) * stride + d0) : V16{};
#pragma GCC unroll 4
      for (int round = 0; round < 4; ++round) {
        V16 w[16];
#pragma GCC unroll 8
        for (int i = 0; i < 8; ++i) {
          w[2 * i] = __builtin_shufflevector(v[i], v[i + 8], 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5,
                                             21, 6, 22, 7, 23);
          w[2 * i + 1] = __builtin_shufflevector(v[i], v[i + 8], 8, 24, 9, 25, 10, 26, 11, 27, 12,
                                                 28, 13, 29, 14, 30, 15, 31);
        }
#pragma GCC unroll 16
        for (int r = 0; r < 16; ++r) v[r] = w[r];
      }
#pragma GCC unroll 16
      for (int c = 0; c < 16; ++c) store16(kt + (d0 + c) * kTile + j0, v[c]);
    }
}

// Rows [j0, j0 + n) of kv head g (keys or values) as f32: a pointer and the stride between rows.
// An F16 cache is converted into buf [kTile, d_head].
std::pair<const float*, int64_t> rows_f32(const KvRows& kv, int g, int d_head, int64_t j0,
                                          int64_t n, std::vector<float>& buf) {
  const int64_t off = j0 * kv.stride + int64_t(g) * d_head;
  if (kv.dtype == DType::F32) return {static_cast<const float*>(kv.data) + off, kv.stride};
  for (int64_t j = 0; j < n; ++j)
    from_f16_rows(static_cast<const uint16_t*>(kv.data) + off + j * kv.stride,
                  buf.data() + j * d_head, d_head);
  return {buf.data(), d_head};
}

// Keys [j0, j0 + n) of kv head g, as f32, into kt [d_head, kTile]; columns ≥ n are zero.
void load_keys(const KvRows& k, int g, int d_head, int64_t j0, int64_t n, Scratch& sc) {
  const auto [rows, stride] = rows_f32(k, g, d_head, j0, n, sc.kbuf);
  if (d_head % 16 == 0) return transpose_tile(rows, stride, n, d_head, sc.kt.data());
  for (int64_t j = 0; j < n; ++j)
    for (int d = 0; d < d_head; ++d) sc.kt[size_t(d) * kTile + size_t(j)] = rows[j * stride + d];
  for (int d = 0; d < d_head; ++d)
    std::fill(sc.kt.begin() + d * kTile + n, sc.kt.begin() + (d + 1) * kTile, 0.0f);
}

std::pair<const float*, int64_t> load_values(const KvRows& v, int g, int d_head, int64_t j0,
                                             int64_t n, Scratch& sc) {
  return rows_f32(v, g, d_head, j0, n, sc.vbuf);
}

// acc[r][c] += a[r] · b[c] with b the C vectors at row: the register-blocked step of both tile
// kernels (scores: a holds one dimension of R queries, row that dimension of the transposed keys;
// values: a holds R rows' weights of one key, row its value). With SkipZero a zero weight adds
// nothing, even where the value is not finite (a key a query must not see).
template <bool SkipZero, int R, int C>
[[gnu::always_inline]] inline void add_outer(V16 (&acc)[R][C], const float (&a)[R],
                                             const float* row) {
  V16 b[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) b[c] = load16(row + 16 * c);
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    if (SkipZero && a[r] == 0.0f) continue;
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] += a[r] * b[c];
  }
}

// s[r][kTile] = scale · q[r][d_head] · kt[d_head, kTile] for R query rows at once: each tile row
// loaded serves R rows.
template <int R>
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void score_tile_rows(
    const float* const* q, const float* kt, int d_head, float scale, float* s) {
  constexpr int C = kTile / 16;
  V16 acc[R][C] = {};  // in registers: the loops below unroll fully
  for (int d = 0; d < d_head; ++d) {
    float qd[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) qd[r] = q[r][d];
    add_outer<false>(acc, qd, kt + d * kTile);
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int c = 0; c < C; ++c) store16(s + r * kTile + 16 * c, acc[r][c] * scale);
}

void score_rows(const float* const* q, int rows, const float* kt, int d_head, float scale,
                float* s) {
  switch (rows) {
    case 1:
      return score_tile_rows<1>(q, kt, d_head, scale, s);
    case 2:
      return score_tile_rows<2>(q, kt, d_head, scale, s);
    case 3:
      return score_tile_rows<3>(q, kt, d_head, scale, s);
    default:
      return score_tile_rows<4>(q, kt, d_head, scale, s);
  }
}

// Calls f(std::integral_constant<int, D>{}) when the head width D has kernels of fixed size (32,
// 64, 128) and returns true; false for any other width, which the general kernels take.
template <typename F>
bool with_fixed_width(int d_head, F&& f) {
  switch (d_head) {
    case 32:
      f(std::integral_constant<int, 32>{});
      return true;
    case 64:
      f(std::integral_constant<int, 64>{});
      return true;
    case 128:
      f(std::integral_constant<int, 128>{});
      return true;
    default:
      return false;
  }
}

// o[d_head] += Σ_{j<n} p[j] · v_j, v_j at v + j·stride. Zero weights are skipped (a key a query
// must not see adds nothing, even where its value is not finite).
// With D fixed the D sums live in registers for the whole tile (the general form loads and stores
// o for every key, measured as a third of decode time at context 1024); even and odd keys go to
// two sets of sums, so that each key waits for the one two back rather than the one before.
template <int D>
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void accumulate_pv_fixed(
    const float* __restrict p, const float* __restrict v, int64_t stride, int64_t n,
    float* __restrict o) {
  constexpr int C = D / 16;
  V16 even[C], odd[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) {
    even[c] = load16(o + 16 * c);
    odd[c] = V16{};
  }
  auto add = [&](V16* acc, int64_t j) {
    const float* vj = v + j * stride;
#pragma GCC unroll 8
    for (int d0 = 0; d0 < D; d0 += 16) __builtin_prefetch(vj + kPrefetchRows * stride + d0);
    const float pj = p[j];
    if (pj == 0.0f) return;
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[c] += pj * load16(vj + 16 * c);
  };
  int64_t j = 0;
  for (; j + 2 <= n; j += 2) {
    add(even, j);
    add(odd, j + 1);
  }
  if (j < n) add(even, j);
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) store16(o + 16 * c, even[c] + odd[c]);
}

__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void accumulate_pv_any(
    const float* p, const float* v, int64_t stride, int64_t n, int d_head, float* o) {
  for (int64_t j = 0; j < n; ++j) {
    const float pj = p[j];
    if (pj == 0.0f) continue;
    const float* vj = v + j * stride;
    for (int d = 0; d < d_head; ++d) o[d] += pj * vj[d];
  }
}

// The query rows one pass over a tile of values serves: row u's weights p[u][0, n) and output
// o[u][d_head].
struct PvRows {
  static constexpr int kMax = kBlockRows;
  const float* p[kMax];
  float* o[kMax];
  int count = 0;
  void add(const float* weights, float* out) {
    p[count] = weights;
    o[count] = out;
    ++count;
  }
};

// o[u][D] += Σ_{j<n} p[u][j] · v_j for R rows: each value row loaded serves R rows, whose R · D/16
// sums stay in registers. Zero weights are skipped (add_outer).
template <int D, int R>
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void accumulate_pv_rows(
    const float* const* p, const float* __restrict v, int64_t stride, int64_t n, float* const* o) {
  constexpr int C = D / 16;
  V16 acc[R][C];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) acc[r][c] = load16(o[r] + 16 * c);
  for (int64_t j = 0; j < n; ++j) {
    float pj[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) pj[r] = p[r][j];
    add_outer<true>(acc, pj, v + j * stride);
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) store16(o[r] + 16 * c, acc[r][c]);
}

// accumulate_pv for every row of rows: four or two at a time, as many as keep the sums in sixteen
// registers, the last one alone.
template <int D>
void accumulate_pv_block_fixed(const PvRows& rows, const float* v, int64_t stride, int64_t n) {
  constexpr int kRows = D <= 64 ? 4 : 2;
  int r = 0;
  for (; r + kRows <= rows.count; r += kRows)
    accumulate_pv_rows<D, kRows>(rows.p + r, v, stride, n, rows.o + r);
  if (kRows == 4 && r + 2 <= rows.count) {
    accumulate_pv_rows<D, 2>(rows.p + r, v, stride, n, rows.o + r);
    r += 2;
  }
  if (r < rows.count) accumulate_pv_fixed<D>(rows.p[r], v, stride, n, rows.o[r]);
}

void accumulate_pv_block(const PvRows& rows, const float* v, int64_t stride, int64_t n,
                         int d_head) {
  if (with_fixed_width(d_head, [&](auto D) {
        accumulate_pv_block_fixed<decltype(D)::value>(rows, v, stride, n);
      }))
    return;
  for (int r = 0; r < rows.count; ++r)
    accumulate_pv_any(rows.p[r], v, stride, n, d_head, rows.o[r]);
}

// s[j] = scale · q · k_j for the n key rows at keys (stride apart), for tasks with too few query
// rows to pay for transposing a tile. Sixteen keys at a time: key j's dot product is a V16 of
// partial sums a[j], and four rounds of pairing (each adding halves of two vectors side by side)
// fold the sixteen into one vector holding the sixteen scores in key order. Folding each a[j]
// alone ends in a serial chain of scalar adds, which was most of decode attention's time.
template <int D>
__attribute__((target_clones("avx512f", "arch=x86-64-v3", "default"))) void score_keys_fixed(
    const float* __restrict q, const float* __restrict keys, int64_t stride, int64_t n, float scale,
    float* __restrict s) {
  static_assert(D % 16 == 0);
  V16 qv[D / 16];
#pragma GCC unroll 8
  for (int c = 0; c < D / 16; ++c) qv[c] = load16(q + 16 * c);
  for (int64_t j0 = 0; j0 < n; j0 += 16) {
    const int m = int(std::min<int64_t>(16, n - j0));
    V16 a[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) {
      // Past the last key (j ≥ m) the last one again: a lane computed and never stored.
      const float* kj = keys + (j0 + std::min(j, m - 1)) * stride;
#pragma GCC unroll 8
      for (int d0 = 0; d0 < D; d0 += 16) __builtin_prefetch(kj + 16 * stride + d0);
      a[j] = qv[0] * load16(kj);
#pragma GCC unroll 8
      for (int c = 1; c < D / 16; ++c) a[j] += qv[c] * load16(kj + 16 * c);
    }
    // b[i]: lanes 0-7 hold 8 partial sums of key i, lanes 8-15 of key i + 8.
    V16 b[8];
#pragma GCC unroll 8
    for (int i = 0; i < 8; ++i)
      b[i] = __builtin_shufflevector(a[i], a[i + 8], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21,
                                     22, 23) +
             __builtin_shufflevector(a[i], a[i + 8], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27,
                                     28, 29, 30, 31);
    // c[i]: four lanes each of keys i, i + 4, i + 8, i + 12.
    V16 c[4];
#pragma GCC unroll 8
    for (int i = 0; i < 4; ++i)
      c[i] = __builtin_shufflevector(b[i], b[i + 4], 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24,
                                     25, 26, 27) +
             __builtin_shufflevector(b[i], b[i + 4], 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28,
                                     29, 30, 31);
    // d[i]: two lanes each of keys i, i + 2, i + 4, ..., i + 14.
    V16 d[2];
#pragma GCC unroll 8
    for (int i = 0; i < 2; ++i)
      d[i] = __builtin_shufflevector(c[i], c[i + 2], 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12,
                                     13, 28, 29) +
             __builtin_shufflevector(c[i], c[i + 2], 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14,
                                     15, 30, 31);
    // Lane j: the whole dot product of key j.
    const V16 e = (__builtin_shufflevector(d[0], d[1], 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26,
                                           12, 28, 14, 30) +
                   __builtin_shufflevector(d[0], d[1], 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27,
                                           13, 29, 15, 31)) *
                  scale;
    std::memcpy(s + j0, &e, size_t(m) * sizeof(float));
  }
}

void score_keys_any(const float* q, const float* keys, int64_t stride, int64_t n, int d_head,
                    float scale, float* s) {
  for (int64_t j = 0; j < n; ++j) {
    float acc = 0;
    for (int d = 0; d < d_head; ++d) acc += q[d] * keys[j * stride + d];
    s[j] = acc * scale;
  }
}

void score_keys(const float* q, const float* keys, int64_t stride, int64_t n, int d_head,
                float scale, float* s) {
  if (!with_fixed_width(d_head, [&](auto D) {
        score_keys_fixed<decltype(D)::value>(q, keys, stride, n, scale, s);
      }))
    score_keys_any(q, keys, stride, n, d_head, scale, s);
}

// Scores s[0, n) of query i against keys [j0, j0 + n): −inf past what i sees, plus the mask.
void mask_scores(int64_t i, int64_t j0, int64_t n, const AttentionDims& d, float* s) {
  const int64_t visible = visible_keys(d, i);
  for (int64_t j = std::max<int64_t>(0, visible - j0); j < n; ++j) s[j] = kNegInf;
  if (d.mask) {
    const float* m = d.mask + i * d.k_len + j0;
    for (int64_t j = 0; j < n; ++j) s[j] += m[j];
  }
}

// One row's online-softmax step over a tile of n scores s, overwritten with their exponentials
// (zeros when the row sees none of the tile's keys): running max m, sum l and unnormalised output
// o [d_head] rescaled. The tile's values are added to o afterwards (accumulate_pv_block).
void softmax_step(float* s, int64_t n, int d_head, float& m, float& l, float* o) {
  const float tile_max = max_value(s, n);
  if (tile_max == kNegInf) {
    std::fill(s, s + n, 0.0f);
    return;
  }
  const float m_new = std::max(m, tile_max);
  const float c = m_new == m ? 1.0f : exp_poly(m - m_new);  // 0 for the first tile (m = −inf)
  const float sum = exp_shift_sum(s, n, m_new);
  if (c != 1.0f) scale(c, o, d_head);
  l = l * c + sum;
  m = m_new;
}

// Keys that some query of [i0, i1) sees.
int64_t keys_of_block(const AttentionDims& d, int64_t i1) {
  return d.mask ? d.k_len : visible_keys(d, i1 - 1);
}

// Online softmax of one task: running max m, sum l and unnormalised output o per row.
void stream_task(const float* q, const KvRows& k, const KvRows& v, float* z, const AttentionDims& d,
                 const Task& t, int group, Scratch& sc, std::vector<float>& state) {
  const int dh = d.d_head;
  const int64_t rows = (t.i1 - t.i0) * group;
  state.assign(size_t(rows) * (dh + 2), 0.0f);
  float* o = state.data();   // [rows, d_head]
  float* m = o + rows * dh;  // [rows]
  float* l = m + rows;       // [rows]
  std::fill(m, m + rows, kNegInf);
  const int64_t end = keys_of_block(d, t.i1);
  // A tile transposed once serves every row; with few rows (decode: one position) dot products
  // straight from the key rows cost less than the transposition.
  const bool direct = rows < kDirectRows;
  for (int64_t j0 = 0; j0 < end; j0 += kTile) {
    const int64_t n = std::min<int64_t>(kTile, end - j0);
    std::pair<const float*, int64_t> keys;
    if (direct)
      keys = rows_f32(k, t.g, dh, j0, n, sc.kbuf);
    else
      load_keys(k, t.g, dh, j0, n, sc);
    const auto [vt, v_stride] = load_values(v, t.g, dh, j0, n, sc);
    auto q_row = [&](int64_t r) {
      const int64_t i = t.i0 + r / group;
      const int h = t.g * group + int(r % group);
      return q + (i * d.n_heads + h) * dh;
    };
    for (int64_t r0 = 0; r0 < rows; r0 += kScoreRows) {
      const int nr = int(std::min<int64_t>(kScoreRows, rows - r0));
      if (!direct) {
        const float* qs[kScoreRows];
        for (int u = 0; u < nr; ++u) qs[u] = q_row(r0 + u);
        score_rows(qs, nr, sc.kt.data(), dh, d.scale, sc.s.data());
      }
      for (int64_t r = r0; r < r0 + nr; ++r) {
        const int64_t i = t.i0 + r / group;
        float* s = sc.s.data() + (r - r0) * kTile;
        if (direct) score_keys(q_row(r), keys.first, keys.second, n, dh, d.scale, s);
        mask_scores(i, j0, n, d, s);
        softmax_step(s, n, dh, m[r], l[r], o + r * dh);
      }
      PvRows pv;
      for (int u = 0; u < nr; ++u) pv.add(sc.s.data() + u * kTile, o + (r0 + u) * dh);
      accumulate_pv_block(pv, vt, v_stride, n, dh);
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t i = t.i0 + r / group;
    const int h = t.g * group + int(r % group);
    float* zr = z + (i * d.n_heads + h) * dh;
    const float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
    for (int e = 0; e < dh; ++e) zr[e] = o[r * dh + e] * inv;
  }
}

// Scores of one task's rows into scores [n_heads, q_len, k_len], four rows per pass over each
// transposed key tile; −inf past the keys any row of the task sees. With Normalise::Softmax each
// row is then replaced by its softmax while the task's rows are still in cache.
enum class Normalise { No, Softmax };
void score_task(const float* q, const KvRows& k, float* scores, const AttentionDims& d,
                const Task& t, int group, Normalise normalise, Scratch& sc) {
  const int64_t rows = (t.i1 - t.i0) * group, seen = keys_of_block(d, t.i1);
  auto row_of = [&](int64_t r) {
    const int64_t i = t.i0 + r / group;
    const int h = t.g * group + int(r % group);
    return std::pair{i, h};
  };
  for (int64_t j0 = 0; j0 < d.k_len; j0 += kTile) {
    const int64_t n = std::min<int64_t>(kTile, d.k_len - j0);
    if (j0 < seen) load_keys(k, t.g, d.d_head, j0, n, sc);
    for (int64_t r0 = 0; r0 < rows; r0 += kScoreRows) {
      const int nr = int(std::min<int64_t>(kScoreRows, rows - r0));
      if (j0 < seen) {
        const float* qs[kScoreRows];
        for (int u = 0; u < nr; ++u) {
          const auto [i, h] = row_of(r0 + u);
          qs[u] = q + (i * d.n_heads + h) * d.d_head;
        }
        score_rows(qs, nr, sc.kt.data(), d.d_head, d.scale, sc.s.data());
      }
      for (int u = 0; u < nr; ++u) {
        const auto [i, h] = row_of(r0 + u);
        float* out = scores + (int64_t(h) * d.q_len + i) * d.k_len + j0;
        if (j0 >= seen) {
          std::fill(out, out + n, kNegInf);
          continue;
        }
        const float* s = sc.s.data() + u * kTile;
        std::memcpy(out, s, size_t(n) * sizeof(float));
        mask_scores(i, j0, n, d, out);
      }
    }
  }
  if (normalise == Normalise::No) return;
  for (int64_t r = 0; r < rows; ++r) {
    const auto [i, h] = row_of(r);
    softmax_row(scores + (int64_t(h) * d.q_len + i) * d.k_len, d.k_len);
  }
}

void check_dims(const AttentionDims& d) {
  if (d.n_kv_heads <= 0 || d.n_heads % d.n_kv_heads != 0 || d.d_head <= 0)
    fail("attention: ", d.n_heads, " query heads cannot share ", d.n_kv_heads, " kv heads");
}

void materialise(const float* q, const KvRows& k, float* out, const AttentionDims& d,
                 Normalise normalise, ThreadPool& pool) {
  check_dims(d);
  const Tasks tasks(d);
  pool.parallel_for(tasks.count(d), [&](int64_t begin, int64_t end) {
    Scratch sc(d.d_head);
    for (int64_t t = begin; t < end; ++t)
      score_task(q, k, out, d, tasks(d, t), tasks.group, normalise, sc);
  });
}

}  // namespace

void attention_streaming(const float* q, const KvRows& k, const KvRows& v, float* z,
                         const AttentionDims& d, ThreadPool& pool) {
  check_dims(d);
  const Tasks tasks(d);
  pool.parallel_for(tasks.count(d), [&](int64_t begin, int64_t end) {
    Scratch sc(d.d_head);
    std::vector<float> state;
    for (int64_t t = begin; t < end; ++t)
      stream_task(q, k, v, z, d, tasks(d, t), tasks.group, sc, state);
  });
}

void attention_scores(const float* q, const KvRows& k, float* scores, const AttentionDims& d,
                      ThreadPool& pool) {
  materialise(q, k, scores, d, Normalise::No, pool);
}

void attention_pattern(const float* q, const KvRows& k, float* pattern, const AttentionDims& d,
                       ThreadPool& pool) {
  materialise(q, k, pattern, d, Normalise::Softmax, pool);
}

void softmax_rows(float* x, int64_t rows, int64_t n, ThreadPool& pool) {
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) softmax_row(x + r * n, n);
  });
}

void attention_mix(const float* pattern, const KvRows& v, float* z, const AttentionDims& d,
                   ThreadPool& pool) {
  check_dims(d);
  const Tasks tasks(d);
  const int group = tasks.group, dh = d.d_head;
  pool.parallel_for(tasks.count(d), [&](int64_t begin, int64_t end) {
    Scratch sc(dh);
    for (int64_t ti = begin; ti < end; ++ti) {
      const Task t = tasks(d, ti);
      const int64_t rows = (t.i1 - t.i0) * group;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = t.i0 + r / group;
        const int h = t.g * group + int(r % group);
        std::memset(z + (i * d.n_heads + h) * dh, 0, size_t(dh) * sizeof(float));
      }
      for (int64_t j0 = 0; j0 < d.k_len; j0 += kTile) {
        const int64_t n = std::min<int64_t>(kTile, d.k_len - j0);
        // The rows with weight on some key of the tile, PvRows::kMax at a time (a task has more
        // rows only when more than that many query heads share a kv head); the tile's values
        // are loaded for the first of them.
        PvRows pv;
        std::pair<const float*, int64_t> vt{nullptr, 0};
        auto flush = [&] {
          if (pv.count == 0) return;
          if (!vt.first) vt = load_values(v, t.g, dh, j0, n, sc);
          accumulate_pv_block(pv, vt.first, vt.second, n, dh);
          pv.count = 0;
        };
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t i = t.i0 + r / group;
          const int h = t.g * group + int(r % group);
          const float* p = pattern + (int64_t(h) * d.q_len + i) * d.k_len + j0;
          if (std::none_of(p, p + n, [](float x) { return x != 0.0f; })) continue;
          pv.add(p, z + (i * d.n_heads + h) * dh);
          if (pv.count == PvRows::kMax) flush();
        }
        flush();
      }
    }
  });
}

void head_results(const float* z, const float* w_o, float* result, int64_t rows, int n_heads,
                  int d_head, int d_model, ThreadPool& pool) {
  const int width = n_heads * d_head;
  pool.parallel_for(n_heads, [&](int64_t h0, int64_t h1) {
    for (int64_t h = h0; h < h1; ++h)
      blas::sgemm(false, true, int(rows), d_model, d_head, 1.0f, z + h * d_head, width,
                  w_o + h * d_head, width, 0.0f, result + h * d_model, n_heads * d_model);
  });
}

}  // namespace gb::ops
