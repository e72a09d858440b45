#include "ops/attention.h"

#include <cblas.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "ops/vec.h"

namespace gb::ops {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t stride_of(const AttentionDims& d) {
  return d.kv_stride ? d.kv_stride : int64_t(d.n_kv_heads) * d.d_head;
}

// Number of keys query i may see.
int64_t visible_keys(const AttentionDims& d, int64_t i) {
  if (!d.causal) return d.k_len;
  const int64_t n = d.q_pos0 + i + 1;
  return n < d.k_len ? n : d.k_len;
}

// Scores of one (head, query) row into row[0, k_len); masked entries are −inf.
void score_row(const float* qh, const float* k, int kv_head, int64_t i, const AttentionDims& d,
               float* row) {
  const int64_t stride = stride_of(d), visible = visible_keys(d, i);
  for (int64_t j = 0; j < visible; ++j)
    row[j] = d.scale * dot(qh, k + j * stride + int64_t(kv_head) * d.d_head, d.d_head);
  for (int64_t j = visible; j < d.k_len; ++j) row[j] = kNegInf;
  if (d.mask) {
    const float* m = d.mask + i * d.k_len;
    for (int64_t j = 0; j < d.k_len; ++j) row[j] += m[j];
  }
}

void softmax_row(float* x, int64_t n) {
  const float m = max_value(x, n);
  if (m == kNegInf) {
    std::memset(x, 0, size_t(n) * sizeof(float));
    return;
  }
  double sum = 0;
  for (int64_t j = 0; j < n; ++j) {
    x[j] = std::exp(x[j] - m);
    sum += x[j];
  }
  scale(float(1.0 / sum), x, n);
}

// zh[d_head] = Σ_j p[j]·v_j for one head.
void mix_row(const float* p, const float* v, int kv_head, const AttentionDims& d, float* zh) {
  const int64_t stride = stride_of(d);
  std::memset(zh, 0, size_t(d.d_head) * sizeof(float));
  for (int64_t j = 0; j < d.k_len; ++j)
    if (p[j] != 0.0f) axpy(p[j], v + j * stride + int64_t(kv_head) * d.d_head, zh, d.d_head);
}

}  // namespace

void attention_streaming(const float* q, const float* k, const float* v, float* z,
                         const AttentionDims& d, ThreadPool& pool) {
  const int group = d.n_heads / d.n_kv_heads;
  pool.parallel_for(d.q_len * d.n_heads, [&](int64_t begin, int64_t end) {
    std::vector<float> row(static_cast<size_t>(d.k_len));
    for (int64_t t = begin; t < end; ++t) {
      const int64_t i = t / d.n_heads;
      const int h = int(t % d.n_heads);
      const int64_t off = (i * d.n_heads + h) * d.d_head;
      score_row(q + off, k, h / group, i, d, row.data());
      softmax_row(row.data(), d.k_len);
      mix_row(row.data(), v, h / group, d, z + off);
    }
  });
}

void attention_scores(const float* q, const float* k, float* scores, const AttentionDims& d,
                      ThreadPool& pool) {
  const int group = d.n_heads / d.n_kv_heads;
  pool.parallel_for(d.q_len * d.n_heads, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int h = int(t / d.q_len);
      const int64_t i = t % d.q_len;
      score_row(q + (i * d.n_heads + h) * d.d_head, k, h / group, i, d,
                scores + (int64_t(h) * d.q_len + i) * d.k_len);
    }
  });
}

void softmax_rows(float* x, int64_t rows, int64_t n, ThreadPool& pool) {
  pool.parallel_for(rows, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) softmax_row(x + r * n, n);
  });
}

void attention_mix(const float* pattern, const float* v, float* z, const AttentionDims& d,
                   ThreadPool& pool) {
  const int group = d.n_heads / d.n_kv_heads;
  pool.parallel_for(d.q_len * d.n_heads, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int h = int(t / d.q_len);
      const int64_t i = t % d.q_len;
      mix_row(pattern + (int64_t(h) * d.q_len + i) * d.k_len, v, h / group, d,
              z + (i * d.n_heads + h) * d.d_head);
    }
  });
}

void head_results(const float* z, const float* w_o, float* result, int64_t rows, int n_heads,
                  int d_head, int d_model, ThreadPool& pool) {
  const int width = n_heads * d_head;
  openblas_set_num_threads(pool.size());
  for (int h = 0; h < n_heads; ++h) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), d_model, d_head, 1.0f,
                z + h * d_head, width, w_o + h * d_head, width, 0.0f, result + int64_t(h) * d_model,
                n_heads * d_model);
  }
}

}  // namespace gb::ops
