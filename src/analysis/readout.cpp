#include "analysis/readout.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ops/matmul.h"
#include "ops/norm.h"

namespace gb::analysis {

Tensor read_out(const Model& model, const float* resid, int64_t rows) {
  const NormWeights& norm = model.final_norm();
  const WeightMatrix& unembed = model.unembedding();
  const int64_t d = unembed.cols;
  std::vector<float> normed(size_t(rows * d));          // [rows, d_model]
  std::vector<float> scale(static_cast<size_t>(rows));  // [rows]
  ops::norm_scale(norm.kind, resid, rows, d, norm.eps, scale.data());
  ops::norm_normalize(norm.kind, resid, scale.data(), rows, d, normed.data());
  ops::norm_affine(normed.data(), rows, d, norm.w.data(), norm.b.empty() ? nullptr : norm.b.data());
  Tensor logits(Shape{rows, unembed.rows});  // [rows, d_vocab]
  ops::matmul(normed.data(), rows, unembed, nullptr, logits.data(), model.pool());
  return logits;
}

std::vector<double> log_softmax(std::span<const float> logits) {
  const double mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(double(v) - mx);
  const double lse = mx + std::log(sum);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = double(logits[i]) - lse;
  return out;
}

RowSummary summarize_logits(std::span<const float> logits, int top_k,
                            std::optional<int32_t> target) {
  const std::vector<double> lp = log_softmax(logits);
  RowSummary s;
  for (double v : lp)
    if (v > -INFINITY) s.entropy -= std::exp(v) * v;
  const size_t k = std::min(size_t(std::max(top_k, 0)), logits.size());
  std::vector<int32_t> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  // Ties broken by id, so the order is the same whatever the sort does.
  auto before = [&](int32_t a, int32_t b) {
    return logits[size_t(a)] > logits[size_t(b)] ||
           (logits[size_t(a)] == logits[size_t(b)] && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + long(k), order.end(), before);
  for (size_t r = 0; r < k; ++r) {
    const int32_t id = order[r];
    s.top.push_back({id, logits[size_t(id)], std::exp(lp[size_t(id)])});
  }
  if (target) {
    const int32_t t = *target;
    s.target = TokenScore{t, logits[size_t(t)], std::exp(lp[size_t(t)])};
    s.target_rank = 0;
    for (size_t i = 0; i < logits.size(); ++i)
      if (before(int32_t(i), t)) ++s.target_rank;
  }
  return s;
}

}  // namespace gb::analysis
