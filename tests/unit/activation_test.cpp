// The vectorised SiLU against its definition x / (1 + e^−x) in double precision, over the range
// activations take and past exp's overflow, with the non-finite values propagated as the library
// exp's formula propagates them.
#include "ops/activation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace gb::ops {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(Silu, MatchesTheDefinitionInDouble) {
  std::vector<float> x;
  for (float v = -120.0f; v <= 120.0f; v += 0.0173f) x.push_back(v);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 3e38f, -3e38f, -88.5f, -87.9f}) x.push_back(v);
  std::vector<float> y = x;
  silu(y.data(), int64_t(y.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i], want = v / (1.0 + std::exp(-v));
    // A few float roundings of a value of this size, and underflow near 0 for large negative x.
    EXPECT_NEAR(y[i], want, 1e-6 * std::fabs(want) + 1e-30) << "x = " << x[i];
  }
}

TEST(Silu, NonFiniteValuesFollowTheFormula) {
  std::vector<float> x = {kInf, -kInf, std::numeric_limits<float>::quiet_NaN()};
  silu(x.data(), int64_t(x.size()));
  EXPECT_EQ(x[0], kInf);          // inf / (1 + 0)
  EXPECT_TRUE(std::isnan(x[1]));  // −inf / (1 + inf), as x / (1 + exp(−x)) in float gives
  EXPECT_TRUE(std::isnan(x[2]));
}

}  // namespace
}  // namespace gb::ops
