// The attention kernels (online-softmax streaming, tiled scores / softmax / mix, F16 key and
// value rows) against a scalar reference in double precision, over odd sizes: head widths that
// are not multiples of the vector width, key counts around the 64-key tile, grouped-query
// attention, a query offset into the cache, explicit masks with fully masked rows, rows strided
// wider than the kv heads.
#include "ops/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "core/dtype.h"
#include "ops/f16_rows.h"
#include "ops/softmax.h"

namespace gb::ops {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

struct Case {
  int n_heads, n_kv_heads, d_head;
  int64_t q_len, k_len, q_pos0;
  bool causal;
  bool mask;        // an explicit mask with −inf entries (and one fully masked row)
  int64_t padding;  // extra elements per key row beyond n_kv_heads·d_head
};

std::vector<float> random_vector(size_t n, unsigned seed, float scale = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

struct Inputs {
  Case c;
  AttentionDims dims;
  std::vector<float> q, k, v, mask;
  int64_t stride;

  explicit Inputs(const Case& cs) : c(cs) {
    stride = int64_t(c.n_kv_heads) * c.d_head + c.padding;
    q = random_vector(size_t(c.q_len * c.n_heads * c.d_head), 1, 2.0f);
    k = random_vector(size_t(c.k_len * stride), 2, 2.0f);
    v = random_vector(size_t(c.k_len * stride), 3);
    dims = {.n_heads = c.n_heads,
            .n_kv_heads = c.n_kv_heads,
            .d_head = c.d_head,
            .q_len = c.q_len,
            .k_len = c.k_len,
            .q_pos0 = c.q_pos0,
            .causal = c.causal,
            .scale = 1.0f / std::sqrt(float(c.d_head))};
    if (c.mask) {
      mask = random_vector(size_t(c.q_len * c.k_len), 4, 0.5f);
      for (size_t i = 0; i < mask.size(); i += 3) mask[i] = -kInf;
      for (int64_t j = 0; j < c.k_len; ++j) mask[size_t(j)] = -kInf;  // query 0 sees nothing
      dims.mask = mask.data();
    }
  }
  KvRows keys() const { return {k.data(), DType::F32, stride}; }
  KvRows values() const { return {v.data(), DType::F32, stride}; }
};

// The reference, written from the definition: scores[h, i, j] = scale·q_i·k_j + mask, −inf past
// the causal limit; pattern = softmax over j (0 for a row of only −inf); z = pattern @ v.
struct Reference {
  std::vector<double> scores, pattern, z;
  explicit Reference(const Inputs& in) {
    const Case& c = in.c;
    const int group = c.n_heads / c.n_kv_heads;
    scores.assign(size_t(c.n_heads * c.q_len * c.k_len), 0.0);
    pattern = scores;
    z.assign(size_t(c.q_len * c.n_heads * c.d_head), 0.0);
    for (int h = 0; h < c.n_heads; ++h)
      for (int64_t i = 0; i < c.q_len; ++i) {
        double* s = scores.data() + (h * c.q_len + i) * c.k_len;
        double* p = pattern.data() + (h * c.q_len + i) * c.k_len;
        const int g = h / group;
        double m = -INFINITY;
        for (int64_t j = 0; j < c.k_len; ++j) {
          double dot = 0;
          for (int d = 0; d < c.d_head; ++d)
            dot += double(in.q[size_t((i * c.n_heads + h) * c.d_head + d)]) *
                   double(in.k[size_t(j * in.stride + g * c.d_head + d)]);
          s[j] = double(in.dims.scale) * dot;
          if (c.causal && j > c.q_pos0 + i) s[j] = -INFINITY;
          if (c.mask) s[j] += double(in.mask[size_t(i * c.k_len + j)]);
          m = std::max(m, s[j]);
        }
        if (m == -INFINITY) continue;
        double sum = 0;
        for (int64_t j = 0; j < c.k_len; ++j) sum += p[j] = std::exp(s[j] - m);
        for (int64_t j = 0; j < c.k_len; ++j) {
          p[j] /= sum;
          for (int d = 0; d < c.d_head; ++d)
            z[size_t((i * c.n_heads + h) * c.d_head + d)] +=
                p[j] * double(in.v[size_t(j * in.stride + g * c.d_head + d)]);
        }
      }
  }
};

double max_abs_diff(const std::vector<float>& got, const std::vector<double>& want) {
  double m = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(want[i]) && got[i] == float(want[i])) continue;
    m = std::max(m, std::fabs(double(got[i]) - want[i]));
  }
  return m;
}

std::vector<Case> cases() {
  return {
      {1, 1, 1, 1, 1, 0, true, false, 0},          // the smallest
      {4, 4, 3, 7, 7, 0, true, false, 0},          // d_head below a vector
      {6, 2, 17, 13, 13, 0, true, false, 5},       // GQA, odd width, padded rows
      {6, 3, 64, 1, 130, 129, true, false, 0},     // decoding: one query after 129 cached keys
      {8, 2, 128, 1, 77, 76, true, false, 0},      // decoding, wide heads, keys not in 16s
      {4, 2, 32, 1, 45, 44, true, true, 2},        // decoding, narrow heads, masked, padded
      {8, 1, 80, 5, 200, 195, true, false, 0},     // one kv head, queries at the end of the cache
      {2, 2, 33, 70, 70, 0, true, false, 0},       // keys across two tiles and a tail
      {4, 2, 16, 64, 64, 0, true, false, 0},       // exactly one tile
      {4, 2, 16, 65, 65, 0, true, false, 0},       // one key past a tile
      {3, 3, 24, 9, 31, 0, false, true, 0},        // cross-attention style: mask, not causal
      {4, 4, 32, 40, 40, 0, true, true, 3},        // causal and a mask
      {12, 4, 64, 100, 300, 200, true, false, 0},  // more query blocks than threads
      {40, 1, 16, 3, 70, 67, true, false, 0},      // 40 query heads on one kv head: 40-row tasks
  };
}

std::string label(const Case& c) {
  return "heads " + std::to_string(c.n_heads) + "/" + std::to_string(c.n_kv_heads) + " d_head " +
         std::to_string(c.d_head) + " q " + std::to_string(c.q_len) + " k " +
         std::to_string(c.k_len) + " pos0 " + std::to_string(c.q_pos0) + (c.mask ? " masked" : "") +
         (c.causal ? " causal" : "");
}

TEST(Attention, StreamingMatchesReference) {
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    for (const Case& c : cases()) {
      const Inputs in(c);
      const Reference ref(in);
      std::vector<float> z(ref.z.size(), 7.0f);
      attention_streaming(in.q.data(), in.keys(), in.values(), z.data(), in.dims, pool);
      EXPECT_LT(max_abs_diff(z, ref.z), 2e-5) << label(c) << ", threads " << threads;
    }
  }
}

TEST(Attention, MaterialisedScoresPatternAndMixMatchReference) {
  ThreadPool pool(2);
  for (const Case& c : cases()) {
    const Inputs in(c);
    const Reference ref(in);
    std::vector<float> scores(ref.scores.size()), z(ref.z.size(), 7.0f);
    attention_scores(in.q.data(), in.keys(), scores.data(), in.dims, pool);
    EXPECT_LT(max_abs_diff(scores, ref.scores), 2e-5) << label(c);
    for (size_t i = 0; i < scores.size(); ++i)
      ASSERT_EQ(std::isinf(scores[i]), std::isinf(ref.scores[i])) << label(c) << " at " << i;
    softmax_rows(scores.data(), c.n_heads * c.q_len, c.k_len, pool);
    EXPECT_LT(max_abs_diff(scores, ref.pattern), 1e-5) << label(c);
    // Scored and normalised in one pass: the same floats as the two steps.
    std::vector<float> pattern(scores.size(), 7.0f);
    attention_pattern(in.q.data(), in.keys(), pattern.data(), in.dims, pool);
    EXPECT_EQ(pattern, scores) << label(c);
    attention_mix(scores.data(), in.values(), z.data(), in.dims, pool);
    EXPECT_LT(max_abs_diff(z, ref.z), 2e-5) << label(c);
  }
}

TEST(Attention, MixUsesPatternEntriesOutsideTheCausalTriangle) {
  // An intervention may write weight onto a future key; the mix must not drop it.
  ThreadPool pool(1);
  const Inputs in({2, 1, 8, 3, 3, 0, true, false, 0});
  std::vector<float> pattern(2 * 3 * 3, 0.0f), z(3 * 2 * 8);
  pattern[0 * 3 + 2] = 1.0f;  // head 0, query 0 takes key 2 only
  attention_mix(pattern.data(), in.values(), z.data(), in.dims, pool);
  for (int d = 0; d < 8; ++d) EXPECT_EQ(z[size_t(d)], in.v[size_t(2 * in.stride + d)]);
}

TEST(Attention, AValueNoQuerySeesDoesNotReachTheOutput) {
  // A non-finite value at the last position (a NaN the model made there) must leave the outputs
  // of earlier queries, which are causally blind to it, exactly as if it were finite: 0 · NaN
  // would be NaN. Decoding widths (64, 128) and a generic one (24).
  ThreadPool pool(1);
  for (const Case& c : std::vector<Case>{{6, 3, 64, 70, 70, 0, true, false, 0},
                                         {4, 2, 128, 20, 20, 0, true, false, 0},
                                         {4, 2, 24, 20, 20, 0, true, false, 0}}) {
    Inputs in(c);
    const Reference ref(in);
    for (int64_t e = 0; e < in.stride; ++e)
      in.v[size_t((c.k_len - 1) * in.stride + e)] = std::numeric_limits<float>::quiet_NaN();
    std::vector<float> z(ref.z.size());
    attention_streaming(in.q.data(), in.keys(), in.values(), z.data(), in.dims, pool);
    const size_t blind = size_t((c.q_len - 1) * c.n_heads * c.d_head);  // queries before the last
    const std::vector<float> got(z.begin(), z.begin() + ptrdiff_t(blind));
    EXPECT_TRUE(std::all_of(got.begin(), got.end(), [](float x) { return std::isfinite(x); }))
        << label(c);
    EXPECT_LT(
        max_abs_diff(got, std::vector<double>(ref.z.begin(), ref.z.begin() + ptrdiff_t(blind))),
        2e-5)
        << label(c);
  }
}

TEST(Attention, F16RowsEqualF32RowsRoundedToF16) {
  ThreadPool pool(2);
  for (const Case& c : cases()) {
    Inputs in(c);
    std::vector<uint16_t> k16(in.k.size()), v16(in.v.size());
    to_f16_rows(in.k.data(), k16.data(), int64_t(k16.size()));
    to_f16_rows(in.v.data(), v16.data(), int64_t(v16.size()));
    std::vector<float> z16(size_t(c.q_len * c.n_heads * c.d_head)), z32(z16.size());
    attention_streaming(in.q.data(), {k16.data(), DType::F16, in.stride},
                        {v16.data(), DType::F16, in.stride}, z16.data(), in.dims, pool);
    // Stated tolerance of the F16 cache against the f32 one: keys and values are rounded to
    // 11 significant bits (relative 2^-11); with |q·k| scores of a few units and |v| ~ 1 the
    // output moves by well under 1e-2.
    const Reference exact(in);
    EXPECT_LT(max_abs_diff(z16, exact.z), 1e-2) << label(c);
    // And it is exactly the f32 computation on the rounded values (up to summation order).
    for (size_t i = 0; i < in.k.size(); ++i) in.k[i] = f16_to_f32(k16[i]);
    for (size_t i = 0; i < in.v.size(); ++i) in.v[i] = f16_to_f32(v16[i]);
    attention_streaming(in.q.data(), in.keys(), in.values(), z32.data(), in.dims, pool);
    for (size_t i = 0; i < z16.size(); ++i) ASSERT_NEAR(z16[i], z32[i], 1e-6) << label(c);
  }
}

TEST(F16Rows, RoundTripMatchesScalarConversion) {
  std::vector<float> x = random_vector(1037, 9, 100.0f);
  x[3] = 0.0f;
  x[4] = -0.0f;
  x[5] = 1e-6f;     // subnormal in f16
  x[6] = 70000.0f;  // past f16 range: inf
  x[7] = kInf;
  std::vector<uint16_t> h(x.size());
  std::vector<float> back(x.size());
  to_f16_rows(x.data(), h.data(), int64_t(x.size()));
  from_f16_rows(h.data(), back.data(), int64_t(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(h[i], f32_to_f16(x[i])) << "value " << x[i];
    ASSERT_EQ(back[i], f16_to_f32(h[i])) << "value " << x[i];
  }
}

TEST(Softmax, ExpShiftSumMatchesStdExp) {
  std::vector<float> x;
  for (float v = -100.0f; v <= 5.0f; v += 0.0137f) x.push_back(v);
  x.push_back(-kInf);
  std::vector<float> y = x;
  const float sum = exp_shift_sum(y.data(), int64_t(y.size()), 1.5f);
  double want_sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double want = std::exp(double(x[i] - 1.5f));  // the argument as the kernel forms it
    want_sum += x[i] - 1.5f < -87.0f ? 0.0 : want;
    if (x[i] - 1.5f < -87.0f) {
      ASSERT_EQ(y[i], 0.0f) << "exp(" << x[i] - 1.5f << ")";
    } else {
      ASSERT_NEAR(y[i], want, 3e-7 * want) << "exp(" << x[i] - 1.5f << ")";
    }
  }
  EXPECT_NEAR(sum, want_sum, 1e-6 * want_sum);
  std::vector<float> nan = {0.0f, std::nanf("")};
  exp_shift_sum(nan.data(), 2, 0.0f);
  EXPECT_TRUE(std::isnan(nan[1]));  // NaN stays visible to diagnosis
}

}  // namespace
}  // namespace gb::ops
