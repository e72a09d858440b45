// The blocks a transformer layer is made of, shared by the architecture families: norm,
// self-attention, MLP, unembedding. Each block reads and writes named buffers of Activations and
// shows its intermediate tensors to the hooks, in TransformerLens's order and shapes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/aligned.h"
#include "core/matrix.h"
#include "core/tensor.h"
#include "core/thread_pool.h"
#include "model/config.h"
#include "model/hooks.h"
#include "model/kv_cache.h"
#include "model/weight_binder.h"
#include "ops/norm.h"
#include "ops/rope.h"

namespace gb {

// Per-forward buffers, rows = batch · n_pos. Sized by prepare() before a forward pass (only the
// buffers of observed sites — pattern, result, w_o — grow on demand), reused across calls.
struct Activations {
  AlignedFloats resid;      // [rows, d_model]   the residual stream
  AlignedFloats embed;      // [rows, d_model]   token embeddings (then resid = embed + pos)
  AlignedFloats pos_embed;  // [rows, d_model]   learned position embeddings
  AlignedFloats normed;     // [rows, d_model]   output of the current norm
  AlignedFloats scale;      // [rows]            the current norm's scale
  AlignedFloats q;          // [rows, n_heads, d_head]
  AlignedFloats k, v;       // [rows, n_kv_heads, d_head]
  AlignedFloats pattern;    // [batch, n_heads, n_pos, k_len]  only where observed
  AlignedFloats z;          // [rows, n_heads, d_head]
  AlignedFloats result;     // [rows, n_heads, d_model]  only where observed
  AlignedFloats w_o;        // [d_model, n_heads·d_head]  f32 W_O, only for hook_result
  AlignedFloats attn_out;   // [rows, d_model]
  AlignedFloats mlp_pre;    // [rows, d_mlp]
  AlignedFloats mlp_lin;    // [rows, d_mlp]     gated MLPs
  AlignedFloats mlp_out;    // [rows, d_model]
  AlignedFloats last;       // [batch, d_model]  rows the logits are computed for

  // Grows every buffer a forward pass of `rows` rows over `batch` sequences needs; first, when
  // that is a large growth, checks it fits in the memory available together with `kv_bytes`, the
  // bytes of KV cache the pass will write (allocated, but not yet in memory).
  void prepare(const ModelConfig& c, int64_t rows, int batch, double kv_bytes);
};

// What every block needs to know about the current forward call.
struct Step {
  const ModelConfig& config;
  const Hooks& hooks;
  ThreadPool& pool;
  KvCache& cache;
  Activations& act;
  int batch = 1;
  int64_t n_pos = 0;  // new positions per batch row
  int64_t pos0 = 0;   // absolute position of the first new token
  Stack stack = Stack::Main;
  std::span<const int64_t> lengths = {};  // [batch] real positions per row, or empty: all n_pos

  int64_t rows() const { return int64_t(batch) * n_pos; }
  // The last real position of batch row b.
  int64_t last_pos(int b) const { return lengths.empty() ? n_pos - 1 : lengths[size_t(b)] - 1; }
  Shape shape(int64_t width) const { return {batch, n_pos, width}; }
  Shape shape(int64_t heads, int64_t width) const { return {batch, n_pos, heads, width}; }
  void hook(HookSite site, int layer, AlignedFloats& buf, const Shape& s) const {
    hooks(site, layer, buf.data(), s, pos0, stack);
  }
};

struct NormWeights {
  ops::NormKind kind = ops::NormKind::RmsNorm;
  std::span<const float> w;  // [d_model]
  std::span<const float> b;  // [d_model] or empty
  float eps = 1e-5f;
};

// A LayerNorm's weight and bias, `<name>.weight` and `<name>.bias`, both [d].
NormWeights bind_layer_norm(const WeightBinder& wb, const std::string& name, int64_t d, float eps);

struct AttentionWeights {
  WeightMatrix w_q;                           // [n_heads·d_head, d_model]
  WeightMatrix w_k, w_v;                      // [n_kv_heads·d_head, d_model]
  WeightMatrix w_o;                           // [d_model, n_heads·d_head]
  std::span<const float> b_q, b_k, b_v, b_o;  // biases or empty
};

struct MlpWeights {
  WeightMatrix w_in;                   // [d_mlp, d_model]  (the gate projection in gated MLPs)
  WeightMatrix w_up;                   // [d_mlp, d_model]  gated MLPs only, else empty
  WeightMatrix w_out;                  // [d_model, d_mlp]
  std::span<const float> b_in, b_out;  // biases or empty
  Activation act = Activation::Silu;
};

// Which hook sites a norm reports to.
struct NormSites {
  HookSite scale, normalized;
};

// out [rows, d_model] = norm(x [rows, d_model]).
void norm_block(const Step& s, const NormWeights& w, const float* x, float* out, int layer,
                NormSites sites);

// act.normed [rows, d_model] -> act.attn_out [rows, d_model], through the KV cache.
// rope: null for learned positions. deinterleave: Q/K rows stored in interleaved-pair order.
void self_attention_block(const Step& s, const AttentionWeights& w, ops::Rope* rope,
                          bool deinterleave, int layer);

// x [rows, d_model] -> act.mlp_out [rows, d_model].
void mlp_block(const Step& s, const MlpWeights& w, const float* x, int layer);
// act.normed -> act.mlp_out.
inline void mlp_block(const Step& s, const MlpWeights& w, int layer) {
  mlp_block(s, w, s.act.normed.data(), layer);
}

// act.z [rows, n_heads, d_head] -> act.attn_out [rows, d_model] = z @ W_Oᵀ + b_O, through
// per-head results (shown at `result`, attn.hook_result or cross_attn.hook_result) when observed.
void output_projection(const Step& s, const AttentionWeights& w, int layer, HookSite result);

// resid += delta, then the hook at `site`.
void add_residual(const Step& s, const AlignedFloats& delta, HookSite site, int layer);

// Final norm and unembedding: logits [batch, n_pos or 1, d_vocab].
void unembed_block(const Step& s, const NormWeights& final_norm, const WeightMatrix& unembed,
                   bool all_positions, Tensor& logits);

// Token embedding rows: out[r] = W_E[ids[r]] for r < rows.
void embed_tokens(const Step& s, const WeightMatrix& w_e, std::span<const int32_t> ids, float* out);

}  // namespace gb
