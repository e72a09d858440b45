// Reproducible benchmark inputs: n floats drawn from N(0, 1), the same for the same seed.
#pragma once

#include <random>
#include <vector>

namespace gb::bench {

inline std::vector<float> random_normal(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& f : v) f = normal(rng);
  return v;
}

}  // namespace gb::bench
