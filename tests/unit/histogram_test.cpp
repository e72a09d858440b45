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

TEST(HistogramEdges, FollowTheDefaultRule) {
  const std::vector<double>& e = default_bucket_edges();
  // 1e-12 * 1.1^k < 1e20 for k < 32 ln 10 / ln 1.1 = 773.07: 774 positive edges, as many
  // negative, zero, and +-DBL_MAX.
  ASSERT_EQ(e.size(), 2 * 774 + 3u);
  EXPECT_EQ(e.front(), -DBL_MAX);
  EXPECT_EQ(e.back(), DBL_MAX);
  size_t zero = 775;
  EXPECT_EQ(e[zero], 0.0);
  EXPECT_EQ(e[zero + 1], 1e-12);
  EXPECT_NEAR(e[e.size() - 2] / 1e20, 1.0, 0.1);  // the largest finite edge is just below 1e20
  EXPECT_LT(e[e.size() - 2], 1e20);
  for (size_t k = 1; k <= 774; ++k) EXPECT_EQ(e[zero - k], -e[zero + k]);
  for (size_t i = zero + 2; i < e.size() - 1; ++i) EXPECT_NEAR(e[i] / e[i - 1], 1.1, 1e-12);
}

TEST(Histogram, OneValueGetsItsBucketAndAnEmptyLeftMarker) {
  float one = 1.0f;
  Histogram h = make_histogram({&one, 1});
  ASSERT_EQ(h.bucket.size(), 2u);
  EXPECT_EQ(h.bucket[0], 0);
  EXPECT_EQ(h.bucket[1], 1);
  // 1e-12 * 1.1^k <= 1 < 1e-12 * 1.1^(k+1) for k = floor(12 ln 10 / ln 1.1) = 289.
  EXPECT_LE(h.bucket_limit[0], 1.0);
  EXPECT_GT(h.bucket_limit[1], 1.0);
  EXPECT_NEAR(h.bucket_limit[0], 1e-12 * std::pow(1.1, 289), 1e-9);
  EXPECT_EQ(h.min, 1.0);
  EXPECT_EQ(h.max, 1.0);
  EXPECT_EQ(h.num, 1);
}

TEST(Histogram, NegativeValuesMirrorPositiveOnes) {
  float plus = 0.37f, minus = -0.37f;
  Histogram p = make_histogram({&plus, 1}), m = make_histogram({&minus, 1});
  EXPECT_EQ(m.bucket_limit[0], -p.bucket_limit[1]);
  EXPECT_EQ(m.bucket_limit[1], -p.bucket_limit[0]);
}

TEST(Histogram, ZeroFallsInTheBucketStartingAtZero) {
  std::vector<float> zeros(5, 0.0f);
  Histogram h = make_histogram(zeros);
  EXPECT_EQ(h.bucket_limit, (std::vector<double>{0.0, 1e-12}));
  EXPECT_EQ(h.bucket, (std::vector<double>{0, 5}));
}

TEST(Histogram, KeepsEmptyBucketsBetweenFirstAndLast) {
  std::vector<float> v = {1.0f, 100.0f};
  Histogram h = make_histogram(v);
  // 1 lies in bucket k = floor(12 ln 10 / ln 1.1) = 289 (above zero), 100 in bucket
  // floor(14 ln 10 / ln 1.1) = 338: buckets 289..338 are all kept, after the empty marker.
  EXPECT_EQ(h.bucket.size(), 1 + 50u);
  EXPECT_EQ(total(h), 2);
  EXPECT_EQ(h.bucket[1], 1);
  EXPECT_EQ(h.bucket.back(), 1);
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
      EXPECT_TRUE(double(x) < hi || hi == DBL_MAX) << "edge " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 3 * 1500u);
}

TEST(Histogram, ValuesBeyondTheLastEdgeLandInTheOpenTopBucket) {
  std::vector<float> v = {3e38f, -3e38f};
  Histogram h = make_histogram(v);
  EXPECT_EQ(h.bucket_limit.front(), -DBL_MAX);
  EXPECT_EQ(h.bucket_limit.back(), DBL_MAX);
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
