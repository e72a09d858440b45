#include "model/blocks.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/memory.h"
#include "ops/activation.h"
#include "ops/attention.h"
#include "ops/matmul.h"
#include "ops/vec.h"

namespace gb {

NormWeights bind_layer_norm(const WeightBinder& wb, const std::string& name, int64_t d, float eps) {
  return {.kind = ops::NormKind::LayerNorm,
          .w = wb.vector(name + ".weight", d),
          .b = wb.vector(name + ".bias", d),
          .eps = eps};
}
namespace {

float* grow(AlignedFloats& buf, int64_t n) {
  if (buf.size() < size_t(n)) buf.resize(size_t(n));
  return buf.data();
}

const float* ptr(std::span<const float> v) {
  return v.empty() ? nullptr : v.data();
}

// Before activation buffers grow by `bytes`: a growth of more than 64 MiB is checked against the
// memory available (reading /proc/meminfo takes tens of microseconds, too long for every pass);
// what() names what grows.
template <typename What>
void check_growth(double bytes, What what) {
  if (bytes > 64.0 * (1 << 20)) require_memory(bytes, what());
}

// Work below this many floats per chunk is not worth waking a thread for.
constexpr int64_t kMinChunk = 16384;

// fn(r0, r1) over chunks of [0, rows), each row `width` floats, on the pool's threads.
template <typename Fn>
void for_rows(const Step& s, int64_t rows, int64_t width, Fn&& fn) {
  s.pool.parallel_for(
      rows, [&](int64_t b, int64_t e) { fn(b, e); },
      std::max<int64_t>(1, kMinChunk / std::max<int64_t>(1, width)));
}

// fn(i0, i1) over chunks of [0, n) floats; chunk edges on whole cache lines.
template <typename Fn>
void for_elements(const Step& s, int64_t n, Fn&& fn) {
  s.pool.parallel_for(
      n, [&](int64_t b, int64_t e) { fn(b, e); }, kMinChunk);
}

// y [rows, w.rows] = x [rows, w.cols] @ Wᵀ + b
void linear(const Step& s, const float* x, const WeightMatrix& w, std::span<const float> b,
            float* y, int64_t rows) {
  ops::matmul(x, rows, w, ptr(b), y, s.pool);
}

void activate_range(Activation act, float* x, int64_t n) {
  switch (act) {
    case Activation::GeluTanh:
      ops::gelu_tanh(x, n);
      return;
    case Activation::GeluErf:
      ops::gelu_erf(x, n);
      return;
    case Activation::Relu:
      ops::relu(x, n);
      return;
    case Activation::Silu:
      ops::silu(x, n);
      return;
  }
}

// x[n] = act(x), in parallel chunks.
void activate(const Step& s, Activation act, float* x, int64_t n) {
  for_elements(s, n, [&](int64_t i0, int64_t i1) { activate_range(act, x + i0, i1 - i0); });
}

// Applies RoPE to every batch row of x: [batch, n_pos, heads, d_head], positions in parallel.
void rotate(const Step& s, ops::Rope& rope, float* x, int heads) {
  const int64_t dh = s.config.d_head, row = heads * dh;
  rope.apply(x, 0, heads, int(dh), s.pos0 + s.n_pos);  // fills its tables before threads read them
  for (int b = 0; b < s.batch; ++b) {
    float* xb = x + b * s.n_pos * row;
    for_rows(s, s.n_pos, row, [&](int64_t p0, int64_t p1) {
      rope.apply(xb + p0 * row, p1 - p0, heads, int(dh), s.pos0 + p0);
    });
  }
}

// Appends this step's keys and values to the cache of `layer`.
void store_kv(const Step& s, int layer) {
  const int64_t width = s.cache.width();
  for (int b = 0; b < s.batch; ++b)
    s.cache.store(layer, b, s.pos0, s.act.k.data() + b * s.n_pos * width,
                  s.act.v.data() + b * s.n_pos * width, s.n_pos);
}

// z = softmax(q kᵀ/√d) v over the cache, materialising scores and pattern only if observed.
void attend(const Step& s, int layer) {
  const ModelConfig& c = s.config;
  Activations& a = s.act;
  const int64_t k_len = s.pos0 + s.n_pos, dq = int64_t(c.n_heads) * c.d_head;
  const ops::AttentionDims dims{.n_heads = c.n_heads,
                                .n_kv_heads = c.n_kv_heads,
                                .d_head = c.d_head,
                                .q_len = s.n_pos,
                                .k_len = k_len,
                                .q_pos0 = s.pos0,
                                .causal = true,
                                .scale = 1.0f / std::sqrt(float(c.d_head))};
  const bool observed = s.hooks.on(HookSite::AttnScores, layer, s.stack) ||
                        s.hooks.on(HookSite::Pattern, layer, s.stack);
  if (!observed) {
    for (int b = 0; b < s.batch; ++b)
      ops::attention_streaming(a.q.data() + b * s.n_pos * dq, s.cache.keys(layer, b),
                               s.cache.values(layer, b), a.z.data() + b * s.n_pos * dq, dims,
                               s.pool);
    return;
  }
  const int64_t per_row = int64_t(c.n_heads) * s.n_pos * k_len;
  check_growth(double(s.batch * per_row - int64_t(a.pattern.size())) * sizeof(float), [&] {
    return "the attention patterns of " + std::to_string(s.n_pos) + " × " + std::to_string(k_len) +
           " positions";
  });
  float* pattern = grow(a.pattern, s.batch * per_row);
  const Shape shape{s.batch, c.n_heads, s.n_pos, k_len};
  // Scores kept apart from the pattern only when they are observed themselves.
  const bool scores = s.hooks.on(HookSite::AttnScores, layer, s.stack);
  for (int b = 0; b < s.batch; ++b) {
    const float* qb = a.q.data() + b * s.n_pos * dq;
    if (scores)
      ops::attention_scores(qb, s.cache.keys(layer, b), pattern + b * per_row, dims, s.pool);
    else
      ops::attention_pattern(qb, s.cache.keys(layer, b), pattern + b * per_row, dims, s.pool);
  }
  if (scores) {
    s.hooks(HookSite::AttnScores, layer, pattern, shape, s.pos0, s.stack);
    ops::softmax_rows(pattern, s.batch * c.n_heads * s.n_pos, k_len, s.pool);
  }
  s.hooks(HookSite::Pattern, layer, pattern, shape, s.pos0, s.stack);
  for (int b = 0; b < s.batch; ++b)
    ops::attention_mix(pattern + b * per_row, s.cache.values(layer, b),
                       a.z.data() + b * s.n_pos * dq, dims, s.pool);
}

}  // namespace

void Activations::prepare(const ModelConfig& c, int64_t rows, int batch, double kv_bytes) {
  const int64_t d = c.d_model, dq = int64_t(c.n_heads) * c.d_head,
                dkv = int64_t(c.n_kv_heads) * c.d_head;
  const bool gpt2 = c.family == Family::Gpt2, gated = c.family == Family::Llama;
  const std::pair<AlignedFloats*, int64_t> needs[] = {{&resid, rows * d},
                                                      {&normed, rows * d},
                                                      {&attn_out, rows * d},
                                                      {&mlp_out, rows * d},
                                                      {&embed, gpt2 ? rows * d : 0},
                                                      {&pos_embed, gpt2 ? rows * d : 0},
                                                      {&scale, rows},
                                                      {&q, rows * dq},
                                                      {&z, rows * dq},
                                                      {&k, rows * dkv},
                                                      {&v, rows * dkv},
                                                      {&mlp_pre, rows * c.d_mlp},
                                                      {&mlp_lin, gated ? rows * c.d_mlp : 0},
                                                      {&last, int64_t(batch) * d}};
  double more = 0;  // bytes still to allocate
  for (const auto& [buf, n] : needs)
    more += double(std::max<int64_t>(0, n - int64_t(buf->size()))) * sizeof(float);
  if (more > 0)
    check_growth(more + kv_bytes, [&] {
      return "a forward pass over " + std::to_string(rows) +
             " positions (activations and KV cache)";
    });
  for (const auto& [buf, n] : needs) grow(*buf, n);
}

void norm_block(const Step& s, const NormWeights& w, const float* x, float* out, int layer,
                NormSites sites) {
  const int64_t rows = s.rows(), d = s.config.d_model;
  float* scale = grow(s.act.scale, rows);
  for_rows(s, rows, d, [&](int64_t r0, int64_t r1) {
    ops::norm_scale(w.kind, x + r0 * d, r1 - r0, d, w.eps, scale + r0);
  });
  s.hooks(sites.scale, layer, scale, s.shape(1), s.pos0, s.stack);
  for_rows(s, rows, d, [&](int64_t r0, int64_t r1) {
    ops::norm_normalize(w.kind, x + r0 * d, scale + r0, r1 - r0, d, out + r0 * d);
  });
  s.hooks(sites.normalized, layer, out, s.shape(d), s.pos0, s.stack);
  for_rows(s, rows, d, [&](int64_t r0, int64_t r1) {
    ops::norm_affine(out + r0 * d, r1 - r0, d, w.w.data(), ptr(w.b));
  });
}

void self_attention_block(const Step& s, const AttentionWeights& w, ops::Rope* rope,
                          bool deinterleave, int layer) {
  const ModelConfig& c = s.config;
  Activations& a = s.act;
  const int64_t rows = s.rows();
  const int64_t dq = int64_t(c.n_heads) * c.d_head, dkv = int64_t(c.n_kv_heads) * c.d_head;
  grow(a.q, rows * dq);
  grow(a.k, rows * dkv);
  grow(a.v, rows * dkv);
  grow(a.z, rows * dq);
  grow(a.attn_out, rows * c.d_model);

  linear(s, a.normed.data(), w.w_q, w.b_q, a.q.data(), rows);
  linear(s, a.normed.data(), w.w_k, w.b_k, a.k.data(), rows);
  linear(s, a.normed.data(), w.w_v, w.b_v, a.v.data(), rows);
  if (deinterleave) {
    for_rows(s, rows, dq, [&](int64_t r0, int64_t r1) {
      ops::deinterleave_heads(a.q.data() + r0 * dq, r1 - r0, c.n_heads, c.d_head);
      ops::deinterleave_heads(a.k.data() + r0 * dkv, r1 - r0, c.n_kv_heads, c.d_head);
    });
  }
  s.hook(HookSite::Q, layer, a.q, s.shape(c.n_heads, c.d_head));
  s.hook(HookSite::K, layer, a.k, s.shape(c.n_kv_heads, c.d_head));
  s.hook(HookSite::V, layer, a.v, s.shape(c.n_kv_heads, c.d_head));
  if (rope) {
    rotate(s, *rope, a.q.data(), c.n_heads);
    rotate(s, *rope, a.k.data(), c.n_kv_heads);
    s.hook(HookSite::RotQ, layer, a.q, s.shape(c.n_heads, c.d_head));
    s.hook(HookSite::RotK, layer, a.k, s.shape(c.n_kv_heads, c.d_head));
  }
  store_kv(s, layer);
  attend(s, layer);
  s.hook(HookSite::Z, layer, a.z, s.shape(c.n_heads, c.d_head));
  output_projection(s, w, layer, HookSite::Result);
  s.hook(HookSite::AttnOut, layer, a.attn_out, s.shape(c.d_model));
}

void mlp_block(const Step& s, const MlpWeights& w, const float* x, int layer) {
  Activations& a = s.act;
  const int64_t rows = s.rows(), d_mlp = s.config.d_mlp;
  float* pre = grow(a.mlp_pre, rows * d_mlp);
  grow(a.mlp_out, rows * s.config.d_model);
  linear(s, x, w.w_in, w.b_in, pre, rows);
  s.hook(HookSite::MlpPre, layer, a.mlp_pre, s.shape(d_mlp));
  if (!w.w_up.empty()) {
    float* lin = grow(a.mlp_lin, rows * d_mlp);
    linear(s, x, w.w_up, {}, lin, rows);
    s.hook(HookSite::MlpPreLinear, layer, a.mlp_lin, s.shape(d_mlp));
    activate(s, w.act, pre, rows * d_mlp);
    for_elements(s, rows * d_mlp,
                 [&](int64_t i0, int64_t i1) { ops::mul(lin + i0, pre + i0, i1 - i0); });
  } else {
    activate(s, w.act, pre, rows * d_mlp);
  }
  s.hook(HookSite::MlpPost, layer, a.mlp_pre, s.shape(d_mlp));
  linear(s, pre, w.w_out, w.b_out, a.mlp_out.data(), rows);
  s.hook(HookSite::MlpOut, layer, a.mlp_out, s.shape(s.config.d_model));
}

void output_projection(const Step& s, const AttentionWeights& w, int layer, HookSite result_site) {
  const ModelConfig& c = s.config;
  Activations& a = s.act;
  const int64_t rows = s.rows(), d = c.d_model, dq = int64_t(c.n_heads) * c.d_head;
  if (!s.hooks.on(result_site, layer, s.stack)) {
    linear(s, a.z.data(), w.w_o, w.b_o, a.attn_out.data(), rows);
    return;
  }
  float* w_o = grow(a.w_o, d * dq);
  for (int64_t r = 0; r < d; ++r) ops::weight_row(w.w_o, r, w_o + r * dq);
  float* result = grow(a.result, rows * c.n_heads * d);
  ops::head_results(a.z.data(), w_o, result, rows, c.n_heads, c.d_head, c.d_model, s.pool);
  s.hook(result_site, layer, a.result, s.shape(c.n_heads, d));
  for (int64_t r = 0; r < rows; ++r) {
    float* out = a.attn_out.data() + r * d;
    if (w.b_o.empty())
      std::memset(out, 0, size_t(d) * sizeof(float));
    else
      std::memcpy(out, w.b_o.data(), size_t(d) * sizeof(float));
    for (int h = 0; h < c.n_heads; ++h) ops::add(result + (r * c.n_heads + h) * d, out, d);
  }
}

void add_residual(const Step& s, const AlignedFloats& delta, HookSite site, int layer) {
  const int64_t n = s.rows() * s.config.d_model;
  float* resid = s.act.resid.data();
  for_elements(s, n,
               [&](int64_t i0, int64_t i1) { ops::add(delta.data() + i0, resid + i0, i1 - i0); });
  s.hook(site, layer, s.act.resid, s.shape(s.config.d_model));
}

void unembed_block(const Step& s, const NormWeights& final_norm, const WeightMatrix& unembed,
                   bool all_positions, Tensor& logits) {
  Activations& a = s.act;
  const int64_t d = s.config.d_model, vocab = unembed.rows;
  grow(a.normed, s.rows() * d);
  norm_block(s, final_norm, a.resid.data(), a.normed.data(), -1,
             {HookSite::LnFinalScale, HookSite::LnFinalNormalized});
  all_positions = all_positions || s.hooks.on(HookSite::Logits, -1, s.stack);
  if (all_positions) {
    logits = Tensor(Shape{s.batch, s.n_pos, vocab});
    linear(s, a.normed.data(), unembed, {}, logits.data(), s.rows());
    s.hooks(HookSite::Logits, -1, logits.data(), logits.shape(), s.pos0, s.stack);
    return;
  }
  float* last = grow(a.last, s.batch * d);
  for (int b = 0; b < s.batch; ++b)
    std::memcpy(last + b * d, a.normed.data() + (b * s.n_pos + s.last_pos(b)) * d,
                size_t(d) * sizeof(float));
  logits = Tensor(Shape{s.batch, 1, vocab});
  linear(s, last, unembed, {}, logits.data(), s.batch);
}

void embed_tokens(const Step& s, const WeightMatrix& w_e, std::span<const int32_t> ids,
                  float* out) {
  const int64_t d = w_e.cols;
  s.pool.parallel_for(int64_t(ids.size()), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) ops::weight_row(w_e, ids[size_t(r)], out + r * d);
  });
}

}  // namespace gb
