// Rotary position embeddings, rotate-half convention (as Hugging Face Llama):
// for i < dims/2, with θ_i = base^(-2i/dims) and angle a = pos·θ_i,
//   x'[i]          = x[i]·cos a − x[i + dims/2]·sin a
//   x'[i + dims/2] = x[i + dims/2]·cos a + x[i]·sin a
// Dimensions past `dims` (partial rotary) are left unchanged.
#pragma once

#include <cstdint>
#include <vector>

namespace gb::ops {

class Rope {
 public:
  Rope() = default;
  Rope(int dims, float base);
  // x: [n_pos, n_heads, d_head]; row p has absolute position pos0 + p.
  void apply(float* x, int64_t n_pos, int n_heads, int d_head, int64_t pos0);

 private:
  void grow(int64_t n_positions);
  int dims_ = 0;
  std::vector<float> inv_freq_;   // [dims/2]
  std::vector<float> cos_, sin_;  // [positions, dims/2], grown on demand
};

// GGUF llama files store each head's Q/K rows interleaved: (x0, x_h, x1, x_{h+1}, ...) where
// h = d_head/2. De-interleave one [n_rows, n_heads, d_head] activation into rotate-half order.
void deinterleave_heads(float* x, int64_t n_rows, int n_heads, int d_head);

}  // namespace gb::ops
