#include "export/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <vector>

namespace gb {
namespace {

double total(const Histogram& h) {
  return std::accumulate(h.bucket.begin(), h.bucket.end(), 0.0);
}

TEST(HistogramEdges, AreTheFloatsWithThreeMantissaBitsFrom2ToTheMinus40) {
  const std::vector<double>& e = default_bucket_edges();
  // Per sign: 8 edges in each octave 2^-40 .. 2^127, and 2^128; and 0.
  ASSERT_EQ(e.size(), 2 * (8 * 168 + 1) + 1u);
  const size_t zero = (e.size() - 1) / 2;
  EXPECT_EQ(e[zero], 0.0);
  EXPECT_EQ(e[zero + 1], std::ldexp(1.0, -40));  // [0, 2^-40) takes every smaller |x|
  EXPECT_EQ(e[zero + 2], std::ldexp(1.125, -40));
  EXPECT_EQ(e[zero + 9], std::ldexp(1.0, -39));
  EXPECT_EQ(e.back(), std::ldexp(1.0, 128));
  EXPECT_EQ(e.front(), -std::ldexp(1.0, 128));
  for (size_t k = 1; k <= zero; ++k) EXPECT_EQ(e[zero - k], -e[zero + k]);
  const size_t one = size_t(std::find(e.begin(), e.end(), 1.0) - e.begin());
  ASSERT_LT(one, e.size());
  for (int j = 0; j <= 8; ++j) EXPECT_EQ(e[one + size_t(j)], 1.0 + j / 8.0) << j;
  // Above 2^-40 each bucket is 1/8 of its octave: 6.25% to 12.5% of its lower edge.
  for (size_t i = zero + 2; i < e.size(); ++i) {
    EXPECT_GE(e[i] / e[i - 1], 1.0 + 1.0 / 15.0) << i;
    EXPECT_LE(e[i] / e[i - 1], 1.125) << i;
  }
}

TEST(Histogram, OneValueGetsItsBucketAndAnEmptyLeftMarker) {
  float one = 1.0f, two_thirds = 2.0f / 3.0f;
  Histogram h = make_histogram({&one, 1});
  ASSERT_EQ(h.bucket.size(), 2u);
  EXPECT_EQ(h.bucket[0], 0);
  EXPECT_EQ(h.bucket[1], 1);
  EXPECT_EQ(h.bucket_limit, (std::vector<double>{1.0, 1.125}));  // 1 is an edge: [1, 1.125)
  EXPECT_EQ(h.min, 1.0);
  EXPECT_EQ(h.max, 1.0);
  EXPECT_EQ(h.num, 1);
  // 2/3 = 1.333 / 2 lies in [1.25 / 2, 1.375 / 2).
  EXPECT_EQ(make_histogram({&two_thirds, 1}).bucket_limit, (std::vector<double>{0.625, 0.6875}));
}

TEST(Histogram, NegativeValuesMirrorPositiveOnes) {
  float plus = 0.37f, minus = -0.37f;
  Histogram p = make_histogram({&plus, 1}), m = make_histogram({&minus, 1});
  EXPECT_EQ(m.bucket_limit[0], -p.bucket_limit[1]);
  EXPECT_EQ(m.bucket_limit[1], -p.bucket_limit[0]);
}

TEST(Histogram, ANegativeValueOnAnEdgeStartsTheBucketAboveIt) {
  float minus_one = -1.0f;
  EXPECT_EQ(make_histogram({&minus_one, 1}).bucket_limit, (std::vector<double>{-1.0, -0.9375}));
}

TEST(Histogram, ZeroAndTinyValuesFallInTheBucketsAroundZero) {
  std::vector<float> zeros = {0.0f, 0.0f, -0.0f, 1e-30f, std::ldexp(0.99f, -40), 1e-45f};
  Histogram h = make_histogram(zeros);
  EXPECT_EQ(h.bucket_limit, (std::vector<double>{0.0, std::ldexp(1.0, -40)}));
  EXPECT_EQ(h.bucket, (std::vector<double>{0, 6}));
  // -2^-40 is the lower edge of [-2^-40, 0), which also holds every smaller negative value.
  std::vector<float> negative = {-1e-30f, -std::ldexp(1.0f, -40), -1e-45f};
  Histogram n = make_histogram(negative);
  EXPECT_EQ(n.bucket_limit, (std::vector<double>{-std::ldexp(1.0, -40), 0.0}));
  EXPECT_EQ(n.bucket, (std::vector<double>{0, 3}));
  // A span across zero holds the buckets between, down to 2^-40 on either side: 2 * (40 * 8 + 1).
  std::vector<float> both = {-1.0f, 1e-30f, 0.99f};
  EXPECT_EQ(make_histogram(both).bucket.size(), 1 + 2 * (40 * 8 + 1u));
}

TEST(Histogram, KeepsEmptyBucketsBetweenFirstAndLast) {
  std::vector<float> v = {1.0f, 100.0f};
  Histogram h = make_histogram(v);
  // 1 starts the first bucket of its octave; 100 = 1.5625 * 2^6 lies in the fifth of octave 6
  // ([1.5, 1.625) * 2^6): buckets 0 .. 6 * 8 + 4 above 1 are all kept, after the empty marker.
  EXPECT_EQ(h.bucket.size(), 1 + 53u);
  EXPECT_EQ(total(h), 2);
  EXPECT_EQ(h.bucket[1], 1);
  EXPECT_EQ(h.bucket.back(), 1);
  EXPECT_EQ(h.bucket_limit.back(), 1.625 * 64);
}

// Values next to every edge (the closest floats on either side, and the edge itself where a
// float holds it) land in the bucket whose consecutive edges enclose them: lo <= x < hi.
TEST(Histogram, ValuesNextToEveryEdgeLandBetweenTheirEdges) {
  const std::vector<double>& e = default_bucket_edges();
  size_t checked = 0;
  for (size_t i = 1; i + 1 < e.size(); ++i) {
    const float nearest = float(e[i]);
    for (float x :
         {std::nextafter(nearest, -INFINITY), nearest, std::nextafter(nearest, INFINITY)}) {
      if (!std::isfinite(x)) continue;
      Histogram h = make_histogram({&x, 1});
      ASSERT_EQ(h.bucket_limit.size(), 2u);
      const double lo = h.bucket_limit[0], hi = h.bucket_limit[1];
      auto at = std::lower_bound(e.begin(), e.end(), lo);
      ASSERT_TRUE(at != e.end() && *at == lo && at + 1 != e.end() && *(at + 1) == hi)
          << "bucket of " << x << " is not two consecutive edges";
      EXPECT_LE(lo, double(x)) << "edge " << i;
      EXPECT_LT(double(x), hi) << "edge " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 3 * 1500u);
}

TEST(Histogram, TheLargestFloatsLandInTheOutermostBuckets) {
  std::vector<float> v = {FLT_MAX, -FLT_MAX};
  Histogram h = make_histogram(v);
  EXPECT_EQ(h.bucket_limit.front(), -std::ldexp(1.0, 128));
  EXPECT_EQ(h.bucket_limit[1], -std::ldexp(1.875, 127));
  EXPECT_EQ(h.bucket_limit[h.bucket_limit.size() - 2], std::ldexp(1.875, 127));
  EXPECT_EQ(h.bucket_limit.back(), std::ldexp(1.0, 128));
  EXPECT_EQ(total(h), 2);
}

TEST(Histogram, NonFiniteValuesAreCountedAndLeftOut) {
  std::vector<float> v = {1.0f, 2.0f, NAN, INFINITY, -INFINITY, -3.0f, NAN};
  Histogram h = make_histogram(v);
  EXPECT_EQ(h.nan_count, 2);
  EXPECT_EQ(h.inf_count, 2);
  EXPECT_EQ(h.num, 3);
  EXPECT_EQ(total(h), 3);
  EXPECT_EQ(h.min, -3.0);
  EXPECT_EQ(h.max, 2.0);
  EXPECT_EQ(h.sum, 0.0);
  EXPECT_EQ(h.sum_squares, 14.0);
  for (double x : h.bucket_limit) EXPECT_TRUE(std::isfinite(x));
}

TEST(Histogram, NothingFiniteMeansEmpty) {
  std::vector<float> v = {NAN, INFINITY};
  Histogram h = make_histogram(v);
  EXPECT_TRUE(h.empty());
  EXPECT_TRUE(h.bucket.empty());
  EXPECT_EQ(h.nan_count, 1);
  EXPECT_EQ(h.inf_count, 1);
}

}  // namespace
}  // namespace gb
