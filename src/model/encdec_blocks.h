// Blocks of encoder-decoder models (torch.nn.Transformer): multi-head attention over a whole
// sequence at once, without a KV cache, whose keys and values may come from another sequence
// (cross-attention: queries from the decoder, keys and values from the encoder's output), under
// PyTorch's masks. Shares Step, Activations and the weight structs with blocks.h.
#pragma once

#include <cstdint>

#include "model/blocks.h"

namespace gb {

// The hook sites one attention layer reports to.
struct AttentionSites {
  HookSite q, k, v, scores, pattern, z, result, out;
};

inline constexpr AttentionSites kSelfAttentionSites{
    .q = HookSite::Q,
    .k = HookSite::K,
    .v = HookSite::V,
    .scores = HookSite::AttnScores,
    .pattern = HookSite::Pattern,
    .z = HookSite::Z,
    .result = HookSite::Result,
    .out = HookSite::AttnOut,
};

inline constexpr AttentionSites kCrossAttentionSites{
    .q = HookSite::CrossQ,
    .k = HookSite::CrossK,
    .v = HookSite::CrossV,
    .scores = HookSite::CrossScores,
    .pattern = HookSite::CrossPattern,
    .z = HookSite::CrossZ,
    .result = HookSite::CrossResult,
    .out = HookSite::CrossOut,
};

// Which keys each query may attend to. The masks are additive, like PyTorch's float masks:
// 0 keeps a key, −inf blocks it (PyTorch's boolean masks are −inf where True). A query whose
// every key is blocked gets all-zero attention weights (PyTorch gives NaN there).
struct AttentionMask {
  bool causal = false;             // query i sees keys ≤ i only
  const float* mask = nullptr;     // [q_len, k_len], the same for every batch row, or null
  const float* padding = nullptr;  // [batch, k_len], one value per key of each row, or null
};

// Where queries, keys and values are projected from.
struct AttentionInput {
  const float* x = nullptr;   // [batch, q_len, d_model]  queries (q_len = Step::n_pos)
  const float* kv = nullptr;  // [batch, k_len, d_model]  keys and values (x for self-attention)
  int64_t k_len = 0;
};

// act.attn_out [batch·q_len, d_model] = out_proj(softmax(q kᵀ/√d_head + mask) v), per head.
// Scores and pattern are materialised only when observed (or when hook_result is, per head).
void attention_block(const Step& s, const AttentionWeights& w, const AttentionInput& in,
                     const AttentionMask& mask, const AttentionSites& sites, int layer);

}  // namespace gb
