#include "model/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace gb {

Sampler::Sampler(SamplerOptions options) : options_(options), rng_(options.seed) {
  if (options_.temperature < 0) usage_fail("--temperature must not be negative");
  if (options_.top_k < 0) usage_fail("--top-k must not be negative");
  if (!(options_.top_p > 0 && options_.top_p <= 1)) usage_fail("--top-p must be in (0, 1]");
}

std::vector<float> Sampler::softmax(std::span<const float> logits) {
  std::vector<float> p(logits.begin(), logits.end());
  const float m = *std::max_element(p.begin(), p.end());
  double sum = 0;
  for (float& x : p) {
    x = std::exp(x - m);
    sum += x;
  }
  for (float& x : p) x = float(x / sum);
  return p;
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (options_.temperature == 0.0f)
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  // Candidates sorted by logit, cut to top-k, turned into probabilities, cut to top-p.
  scratch_.clear();
  for (size_t i = 0; i < logits.size(); ++i) scratch_.push_back({logits[i], int32_t(i)});
  size_t k =
      options_.top_k > 0 ? std::min(scratch_.size(), size_t(options_.top_k)) : scratch_.size();
  std::partial_sort(scratch_.begin(), scratch_.begin() + long(k), scratch_.end(),
                    [](const auto& a, const auto& b) { return a.first > b.first; });
  scratch_.resize(k);
  const float m = scratch_[0].first;
  double sum = 0;
  for (auto& [v, id] : scratch_) {
    v = std::exp((v - m) / options_.temperature);
    sum += v;
  }
  double kept = 0;
  size_t n = 0;
  while (n < scratch_.size()) {
    kept += scratch_[n].first / sum;
    ++n;
    if (kept >= options_.top_p) break;
  }
  scratch_.resize(n);
  double total = 0;
  for (const auto& c : scratch_) total += c.first;
  std::uniform_real_distribution<double> u(0.0, total);
  double r = u(rng_);
  for (const auto& [w, id] : scratch_) {
    r -= w;
    if (r <= 0) return id;
  }
  return scratch_.back().second;
}

}  // namespace gb
