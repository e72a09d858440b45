#include "model/encdec_blocks.h"

#include <cmath>
#include <vector>

#include "ops/attention.h"
#include "ops/matmul.h"

namespace gb {
namespace {

const float* ptr(std::span<const float> v) {
  return v.empty() ? nullptr : v.data();
}

// The additive mask [q_len, k_len] of batch row b: mask + padding[b] broadcast over queries.
// Returns null when there is none, and `mask` itself when no padding is given.
const float* row_mask(const AttentionMask& m, int b, int64_t q_len, int64_t k_len,
                      std::vector<float>& scratch) {
  if (!m.padding) return m.mask;
  scratch.resize(size_t(q_len * k_len));
  const float* pad = m.padding + b * k_len;
  for (int64_t i = 0; i < q_len; ++i)
    for (int64_t j = 0; j < k_len; ++j)
      scratch[size_t(i * k_len + j)] = pad[j] + (m.mask ? m.mask[i * k_len + j] : 0.0f);
  return scratch.data();
}

ops::KvRows rows_of(const float* x, int64_t width) {
  return {x, DType::F32, width};
}

// act.z = softmax(q kᵀ/√d_head + mask) v for every batch row. Streams unless scores or pattern
// are observed.
void attend(const Step& s, int64_t k_len, const AttentionMask& m, const AttentionSites& sites,
            int layer) {
  const ModelConfig& c = s.config;
  Activations& a = s.act;
  const int64_t q_len = s.n_pos, width = int64_t(c.n_heads) * c.d_head;
  ops::AttentionDims dims{.n_heads = c.n_heads,
                          .n_kv_heads = c.n_heads,
                          .d_head = c.d_head,
                          .q_len = q_len,
                          .k_len = k_len,
                          .q_pos0 = 0,
                          .causal = m.causal,
                          .scale = 1.0f / std::sqrt(float(c.d_head))};
  const float* q = a.q.data();  // [batch, q_len, n_heads, d_head]
  const float* k = a.k.data();  // [batch, k_len, n_heads, d_head]
  const float* v = a.v.data();  // [batch, k_len, n_heads, d_head]
  float* z = a.z.data();        // [batch, q_len, n_heads, d_head]
  std::vector<float> scratch;
  const bool observed =
      s.hooks.on(sites.scores, layer, s.stack) || s.hooks.on(sites.pattern, layer, s.stack);
  if (!observed) {
    for (int b = 0; b < s.batch; ++b) {
      dims.mask = row_mask(m, b, q_len, k_len, scratch);
      ops::attention_streaming(q + b * q_len * width, rows_of(k + b * k_len * width, width),
                               rows_of(v + b * k_len * width, width), z + b * q_len * width, dims,
                               s.pool);
    }
    return;
  }
  const int64_t per_row = int64_t(c.n_heads) * q_len * k_len;
  a.pattern.resize(size_t(s.batch * per_row));
  float* pattern = a.pattern.data();  // [batch, n_heads, q_len, k_len]
  const Shape shape{s.batch, c.n_heads, q_len, k_len};
  const bool scores =
      s.hooks.on(sites.scores, layer, s.stack);  // else scored and normalised in one
  for (int b = 0; b < s.batch; ++b) {
    dims.mask = row_mask(m, b, q_len, k_len, scratch);
    const ops::KvRows keys = rows_of(k + b * k_len * width, width);
    if (scores)
      ops::attention_scores(q + b * q_len * width, keys, pattern + b * per_row, dims, s.pool);
    else
      ops::attention_pattern(q + b * q_len * width, keys, pattern + b * per_row, dims, s.pool);
  }
  if (scores) {
    s.hooks(sites.scores, layer, pattern, shape, s.pos0, s.stack);
    ops::softmax_rows(pattern, s.batch * c.n_heads * q_len, k_len, s.pool);
  }
  s.hooks(sites.pattern, layer, pattern, shape, s.pos0, s.stack);
  for (int b = 0; b < s.batch; ++b)
    ops::attention_mix(pattern + b * per_row, rows_of(v + b * k_len * width, width),
                       z + b * q_len * width, dims, s.pool);
}

}  // namespace

void attention_block(const Step& s, const AttentionWeights& w, const AttentionInput& in,
                     const AttentionMask& mask, const AttentionSites& sites, int layer) {
  const ModelConfig& c = s.config;
  Activations& a = s.act;
  const int64_t rows = s.rows(), kv_rows = s.batch * in.k_len;
  const int64_t width = int64_t(c.n_heads) * c.d_head;
  a.q.resize(size_t(rows * width));
  a.k.resize(size_t(kv_rows * width));
  a.v.resize(size_t(kv_rows * width));
  a.z.resize(size_t(rows * width));
  a.attn_out.resize(size_t(rows * c.d_model));

  ops::matmul(in.x, rows, w.w_q, ptr(w.b_q), a.q.data(), s.pool);
  ops::matmul(in.kv, kv_rows, w.w_k, ptr(w.b_k), a.k.data(), s.pool);
  ops::matmul(in.kv, kv_rows, w.w_v, ptr(w.b_v), a.v.data(), s.pool);
  const Shape kv_shape{s.batch, in.k_len, c.n_heads, c.d_head};
  s.hook(sites.q, layer, a.q, s.shape(c.n_heads, c.d_head));
  s.hooks(sites.k, layer, a.k.data(), kv_shape, 0, s.stack);
  s.hooks(sites.v, layer, a.v.data(), kv_shape, 0, s.stack);
  attend(s, in.k_len, mask, sites, layer);
  s.hook(sites.z, layer, a.z, s.shape(c.n_heads, c.d_head));
  output_projection(s, w, layer, sites.result);
  s.hook(sites.out, layer, a.attn_out, s.shape(c.d_model));
}

}  // namespace gb
