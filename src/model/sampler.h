// Choosing the next token from logits: greedy, or sampling with temperature, top-k and top-p
// (nucleus), reproducible with a seed.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace gb {

struct SamplerOptions {
  float temperature = 0.0f;  // 0: greedy (argmax)
  int top_k = 0;             // keep the k most likely tokens (0: all)
  float top_p = 1.0f;        // keep the smallest set whose probability reaches p
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(SamplerOptions options);
  int32_t sample(std::span<const float> logits);
  // Probabilities softmax(logits) (for reporting entropy and top-1 probability).
  static std::vector<float> softmax(std::span<const float> logits);

 private:
  SamplerOptions options_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> scratch_;
};

}  // namespace gb
