// Scaled dot-product attention of one sequence over its keys and values.
//
// Two ways, chosen per layer by what is observed:
//  - attention_streaming: never builds the [n_heads, q_len, k_len] matrix. Keys are taken in
//    tiles of 64; each query row keeps a running maximum, sum and output (online softmax), so
//    memory is a few tiles whatever the context length. A task is one kv head × a block of
//    queries, so the query heads that share a kv head (grouped-query attention) read each key
//    tile once.
//  - attention_scores + softmax_rows + attention_mix: materialises scores, then the pattern, so
//    hooks can see and change them (attn.hook_attn_scores / attn.hook_pattern). Also tiled: a
//    task is one kv head × a block of queries over key tiles. attention_pattern does the first
//    two steps in one when only the pattern is observed.
// Both give the same z (up to float rounding). Grouped-query attention: query head h reads kv
// head h / (n_heads/n_kv).
#pragma once

#include <cstdint>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace gb::ops {

// Key or value rows in F32 or F16: row j (one position, all kv heads) at element j·stride.
struct KvRows {
  const void* data = nullptr;
  DType dtype = DType::F32;  // F32 or F16
  int64_t stride = 0;        // elements between consecutive rows (≥ n_kv_heads·d_head)
};

struct AttentionDims {
  int n_heads = 0;
  int n_kv_heads = 0;
  int d_head = 0;
  int64_t q_len = 0;   // query positions
  int64_t k_len = 0;   // key positions available
  int64_t q_pos0 = 0;  // key index aligned with query 0 (causal: query i sees keys ≤ q_pos0+i)
  bool causal = true;
  float scale = 1.0f;           // usually 1/√d_head
  const float* mask = nullptr;  // optional [q_len, k_len], added to scores (−inf blocks a key)
};

// q: [q_len, n_heads, d_head]; k, v: k_len rows holding [n_kv_heads, d_head];
// z: [q_len, n_heads, d_head]. A query that sees no key gets z = 0.
void attention_streaming(const float* q, const KvRows& k, const KvRows& v, float* z,
                         const AttentionDims& dims, ThreadPool& pool);

// scores: [n_heads, q_len, k_len] = scale·q·kᵀ (+ mask), −inf where causally masked.
void attention_scores(const float* q, const KvRows& k, float* scores, const AttentionDims& dims,
                      ThreadPool& pool);

// pattern: [n_heads, q_len, k_len] = softmax of the scores above, row by row: the same values as
// attention_scores then softmax_rows, each task's rows normalised while still in cache (one pass
// over the pattern instead of three). For when the scores themselves are not observed.
void attention_pattern(const float* q, const KvRows& k, float* pattern, const AttentionDims& dims,
                       ThreadPool& pool);

// Softmax over each row of x: [rows, n], in place. A row of only −inf becomes all zeros.
void softmax_rows(float* x, int64_t rows, int64_t n, ThreadPool& pool);

// z: [q_len, n_heads, d_head] = pattern [n_heads, q_len, k_len] @ v. Every nonzero pattern entry
// counts, also outside the causal triangle (an intervention may have written there).
void attention_mix(const float* pattern, const KvRows& v, float* z, const AttentionDims& dims,
                   ThreadPool& pool);

// Each head's contribution to the attention output (TransformerLens's hook_result):
// result[r, h, :] = z[r, h, :] @ W_O[:, h·d_head : (h+1)·d_head]ᵀ.
// z: [rows, n_heads, d_head], w_o: f32 [d_model, n_heads·d_head], result: [rows, n_heads, d_model].
void head_results(const float* z, const float* w_o, float* result, int64_t rows, int n_heads,
                  int d_head, int d_model, ThreadPool& pool);

}  // namespace gb::ops
