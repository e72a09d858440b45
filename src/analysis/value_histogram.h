// A streaming histogram with fixed buckets, so any number of values (a whole corpus) can be
// counted in constant memory and two histograms add up.
//
// Buckets follow the rule of export/histogram.h, the TensorBoard writer's (default_bucket_edges()):
// edges ±2^e · (1 + j/8) for every float exponent e from -40 up, 0 and ±2^128; each bucket but
// [-2^-40, 0) and [0, 2^-40) is 6.25–12.5% wide. A value x falls in [lo, hi) with lo ≤ x < hi,
// as np.histogram(values, edges) counts it. NaN and ±Inf are not counted here.
#pragma once

#include <cstdint>
#include <vector>

#include "export/histogram.h"

namespace gb::analysis {

class ValueHistogram {
 public:
  static constexpr int64_t kBytes = int64_t(histogram_rule::kBuckets) * 8;  // of the counts
  ValueHistogram() : counts_(size_t(histogram_rule::kBuckets), 0) {}
  void add(float x);  // counted when finite
  // The finite values of x[0, n); NaN and ±Inf are skipped.
  void add_values(const float* x, int64_t n);
  void merge(const ValueHistogram& other);  // adds other's counts
  void clear();                             // back to no values
  int64_t total() const { return total_; }
  // Counts of every bucket [e[i], e[i+1]) of e = default_bucket_edges().
  const std::vector<int64_t>& counts() const { return counts_; }
  // The non-empty span: counts of the first to the last non-empty bucket, and their edges (one
  // more). Both empty when nothing was counted.
  std::vector<int64_t> span_counts() const;
  std::vector<double> span_edges() const;
  // The median of |x| over the values counted, to within one bucket (12.5%): the upper edge of
  // the bucket of |x| holding the middle value. 0 when empty.
  double median_abs() const;

 private:
  std::vector<int64_t> counts_;
  int64_t total_ = 0;
  // Every non-zero count is in bucket kZero + m or kZero − 1 − m (export/histogram.h) for some
  // magnitude m in [m_lo_, m_hi_]: merge() and clear() visit those buckets only.
  int32_t m_lo_ = histogram_rule::kMagnitudes, m_hi_ = -1;
};

}  // namespace gb::analysis
