// Compact forms of activations for the viewer page: what travels to the browser and what a run
// keeps in memory, so a 1,024-token prompt on a 12-layer × 12-head model stays small.
//
//   attention patterns   8-bit, lower triangle only (keys ≤ query):  round(p · 255)
//   pattern thumbnails   8-bit, t × t, the maximum over each block of queries × keys
//   MLP activations      8-bit signed per neuron:  x ≈ q · scale[neuron], scale = max|x| / 127
// Non-finite values become 0 here; the run's statistics count them.
#pragma once

#include <cstdint>
#include <vector>

namespace gb::viewer {

// Entries of one head's packed pattern: rows 0..n-1 of lengths 1..n.
inline int64_t packed_size(int64_t n) {
  return n * (n + 1) / 2;
}

// p [n_heads, n, n] (each row a distribution over keys) -> out [n_heads, n(n+1)/2].
void pack_patterns(const float* p, int64_t n_heads, int64_t n, uint8_t* out);

// The side of the thumbnails of an n-position pattern: n itself up to max_side, else max_side.
int64_t thumbnail_side(int64_t n, int64_t max_side);
// p [n_heads, n, n] -> out [n_heads, t, t]; cell (a, b) is the largest weight of queries
// [a·n/t, (a+1)·n/t) on keys [b·n/t, (b+1)·n/t), as round(p · 255).
void pattern_thumbnails(const float* p, int64_t n_heads, int64_t n, int64_t t, uint8_t* out);

// x [n, d] -> q [n, d] and scale [d], per column: x ≈ q · scale.
void quantize_columns(const float* x, int64_t n, int64_t d, int8_t* q, float* scale);

struct NeuronPeak {
  int64_t neuron = 0;
  float max = 0;    // its largest activation over the positions
  int64_t at = 0;   // the position of that activation
  double mean = 0;  // its mean over the positions
};
// The k columns of x [n, d] with the largest maximum, largest first (ties: lower index first).
// Columns holding no finite value are left out.
std::vector<NeuronPeak> top_columns(const float* x, int64_t n, int64_t d, int k);

}  // namespace gb::viewer
