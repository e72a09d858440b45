#include "analysis/weight_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "analysis/weight_inspection.h"
#include "analysis/weight_summaries.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "observe/name_pattern.h"

namespace gb {
namespace {

// A [rows, cols] matrix U diag(sigma) Vᵀ with U, V products of Householder reflections (so the
// singular values are exactly `sigma`, up to f32 rounding of the entries).
std::vector<float> with_singular_values(int64_t rows, int64_t cols, std::vector<double> sigma,
                                        uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  auto reflect_rows = [&](std::vector<double>& m, int64_t r, int64_t c) {  // m: [r, c] <- H m
    std::vector<double> v(static_cast<size_t>(r));
    double norm = 0;
    for (double& x : v) {
      x = normal(rng);
      norm += x * x;
    }
    for (int64_t j = 0; j < c; ++j) {
      double d = 0;
      for (int64_t i = 0; i < r; ++i) d += v[size_t(i)] * m[size_t(i * c + j)];
      for (int64_t i = 0; i < r; ++i) m[size_t(i * c + j)] -= 2 * d / norm * v[size_t(i)];
    }
  };
  std::vector<double> m(size_t(rows * cols), 0.0);
  for (size_t i = 0; i < sigma.size(); ++i) m[i * size_t(cols) + i] = sigma[i];
  for (int k = 0; k < 3; ++k) reflect_rows(m, rows, cols);
  std::vector<double> t(size_t(rows * cols));  // transpose, reflect, transpose back
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[size_t(j * rows + i)] = m[size_t(i * cols + j)];
  for (int k = 0; k < 3; ++k) reflect_rows(t, cols, rows);
  std::vector<float> out(size_t(rows * cols));
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) out[size_t(i * cols + j)] = float(t[size_t(j * rows + i)]);
  return out;
}

TEST(TopSingularValues, FindsAKnownDecayingSpectrum) {
  std::vector<double> sigma;
  for (int i = 0; i < 24; ++i) sigma.push_back(10 * std::pow(0.7, i));
  const std::vector<float> a = with_singular_values(40, 24, sigma, 1);
  const std::vector<double> got = top_singular_values(a, 40, 24);
  ASSERT_EQ(got.size(), 8u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], sigma[i], 1e-5 * sigma[0]) << i;
}

TEST(TopSingularValues, WideMatrixAndFewerValuesThanAsked) {
  const std::vector<double> sigma = {3, 2, 1};
  const std::vector<float> a = with_singular_values(3, 50, sigma, 2);
  const std::vector<double> got = top_singular_values(a, 3, 50, {.values = 8});
  ASSERT_EQ(got.size(), 3u);  // min(values, rows, cols)
  for (size_t i = 0; i < 3; ++i) EXPECT_NEAR(got[i], sigma[i], 1e-5) << i;
}

TEST(TopSingularValues, RankOneAndZeroMatrices) {
  std::vector<float> a(size_t(30 * 20));
  double u2 = 0, v2 = 0;
  for (int i = 0; i < 30; ++i) u2 += (i + 1.0) * (i + 1.0);
  for (int j = 0; j < 20; ++j) v2 += (j - 9.5) * (j - 9.5);
  for (int i = 0; i < 30; ++i)
    for (int j = 0; j < 20; ++j) a[size_t(i * 20 + j)] = float((i + 1.0) * (j - 9.5));
  std::vector<double> got = top_singular_values(a, 30, 20, {.values = 4});
  ASSERT_EQ(got.size(), 4u);
  EXPECT_NEAR(got[0], std::sqrt(u2 * v2), 1e-5 * std::sqrt(u2 * v2));
  for (size_t i = 1; i < 4; ++i) EXPECT_LT(got[i], 1e-4 * got[0]);

  std::vector<float> zeros(size_t(30 * 20), 0.0f);
  for (double s : top_singular_values(zeros, 30, 20)) EXPECT_EQ(s, 0.0);
}

TEST(TopSingularValues, SameSeedSameAnswer) {
  const std::vector<float> a = with_singular_values(33, 17, std::vector<double>(17, 1.0), 3);
  EXPECT_EQ(top_singular_values(a, 33, 17), top_singular_values(a, 33, 17));
}

TEST(TopSingularValues, APoolSplitsTheProductsOnly) {
  std::vector<double> sigma;
  for (int i = 0; i < 48; ++i) sigma.push_back(5 * std::pow(0.8, i));
  const std::vector<float> a = with_singular_values(96, 48, sigma, 4);  // 6 and 3 row grains
  ThreadPool pool(3);
  const std::vector<double> alone = top_singular_values(a, 96, 48);
  const std::vector<double> split = top_singular_values(a, 96, 48, {}, &pool);
  ASSERT_EQ(split.size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    EXPECT_NEAR(split[i], alone[i], 1e-6 * alone[0]) << i;
    EXPECT_NEAR(split[i], sigma[i], 1e-4 * sigma[0]) << i;
  }
}

TEST(TopSingularValues, RejectsSizeMismatch) {
  std::vector<float> a(10);
  EXPECT_THROW(top_singular_values(a, 3, 4), Error);
  EXPECT_THROW(top_singular_values(a, 2, 5, {.iterations = -1}), Error);
}

TEST(ValueStats, SmallKnownValues) {
  const std::vector<float> v = {1, 2, 0, -3, NAN, INFINITY, 0};
  const ValueStats s = value_stats(v);
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.finite, 5);
  EXPECT_EQ(s.nan_count, 1);
  EXPECT_EQ(s.inf_count, 1);
  EXPECT_DOUBLE_EQ(s.mean, 0.0);
  EXPECT_DOUBLE_EQ(s.l2_norm, std::sqrt(14.0));
  EXPECT_DOUBLE_EQ(s.std, std::sqrt(14.0 / 5));
  EXPECT_EQ(s.min, -3);
  EXPECT_EQ(s.max, 2);
  EXPECT_EQ(s.abs_max, 3);
  EXPECT_DOUBLE_EQ(s.zero_fraction, 2.0 / 7);
}

TEST(QuantizationNoise, FromTheBlockScales) {
  // Two Q8_0 blocks with scales 0.5 and 1.5: step_rms = sqrt((0.25 + 2.25) / 2).
  BlockQ8_0 blocks[2] = {};
  blocks[0].d = f32_to_f16(0.5f);
  blocks[1].d = f32_to_f16(-1.5f);
  io::TensorRef t;
  t.name = "w";
  t.data = blocks;
  t.dtype = DType::Q8_0;
  t.shape = {1, 64};
  const QuantizationNoise q = estimate_quantization_noise(t, /*signal_sum_squares=*/64.0);
  EXPECT_EQ(q.blocks, 2);
  EXPECT_DOUBLE_EQ(q.step_rms, std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(q.step_max, 1.5);
  EXPECT_DOUBLE_EQ(q.noise_rms, std::sqrt(1.25 / 12));
  EXPECT_DOUBLE_EQ(q.rel_error, std::sqrt(1.25 / 12) / 1.0);  // signal rms: sqrt(64 / 64)
}

TEST(ReferenceError, KnownDifference) {
  const std::vector<float> x = {1, 2, 3, 4}, r = {1, 2, 3, 2};
  const ReferenceError e = reference_error(x, r);
  EXPECT_DOUBLE_EQ(e.rms_error, 1.0);  // sqrt(4 / 4)
  EXPECT_DOUBLE_EQ(e.max_abs_error, 2.0);
  EXPECT_DOUBLE_EQ(e.rel_error, 2.0 / std::sqrt(18.0));
  EXPECT_DOUBLE_EQ(e.cosine, 22.0 / std::sqrt(30.0 * 18.0));
  EXPECT_THROW(reference_error(x, std::vector<float>(3)), Error);
}

TEST(SummaryPlace, LayerBecomesTheStep) {
  EXPECT_EQ(summary_place("blk.12.attn_q.weight").tag, "blk.{L}.attn_q.weight");
  EXPECT_EQ(summary_place("blk.12.attn_q.weight").step, 12);
  EXPECT_EQ(summary_place("model.layers.3.mlp.experts.7.w1").tag,
            "model.layers.{L}.mlp.experts.7.w1");
  EXPECT_EQ(summary_place("token_embd.weight").tag, "token_embd.weight");
  EXPECT_EQ(summary_place("token_embd.weight").step, 0);
  EXPECT_EQ(summary_place("h2.weight").tag, "h2.weight");  // digits inside a segment: no layer
}

TEST(NaturalOrder, NumbersCompareAsNumbers) {
  EXPECT_TRUE(natural_less("blk.2.x", "blk.10.x"));
  EXPECT_FALSE(natural_less("blk.10.x", "blk.2.x"));
  EXPECT_TRUE(natural_less("blk.1.a", "blk.1.b"));
  EXPECT_TRUE(natural_less("a", "a.b"));
  EXPECT_FALSE(natural_less("x", "x"));
  EXPECT_TRUE(natural_less("blk.02.x", "blk.2.x") != natural_less("blk.2.x", "blk.02.x"));
}

TEST(NamePattern, GlobsRangesAndRegexes) {
  const NamePattern glob = NamePattern::compile("blk.*.attn_?.weight", "--tensors");
  EXPECT_TRUE(glob.matches("blk.3.attn_q.weight"));
  EXPECT_FALSE(glob.matches("blk.3.attn_out.weight"));
  const NamePattern range = NamePattern::compile("blk.2-4.ffn_up.weight", "--tensors");
  EXPECT_TRUE(range.matches("blk.4.ffn_up.weight"));
  EXPECT_FALSE(range.matches("blk.5.ffn_up.weight"));
  EXPECT_FALSE(range.matches("blk.99999999999999999999999.ffn_up.weight"));
  const NamePattern re = NamePattern::compile(R"(re:blk\.[01]\..*)", "--tensors");
  EXPECT_TRUE(re.matches("blk.1.ffn_up.weight"));
  EXPECT_FALSE(re.matches("blk.2.ffn_up.weight"));
  EXPECT_THROW(NamePattern::compile("re:(", "--tensors"), UsageError);
  EXPECT_EQ(closest_names("blk.0.atn_q", {"blk.0.attn_q", "output", "blk.0.attn_k"}, 2),
            "blk.0.attn_q, blk.0.attn_k");
}

}  // namespace
}  // namespace gb
