// Histograms in TensorBoard's HistogramProto layout, bucketed like torch's SummaryWriter default.
//
// Bucket rule (TensorFlow's default histogram buckets, which torch.utils.tensorboard's
// add_histogram also uses by default, bins="tensorflow"): the bucket edges are
//   -DBL_MAX, -e[n-1], ..., -e[0], 0, e[0], ..., e[n-1], DBL_MAX
// with e[0] = 1e-12 and e[k+1] = e[k] * 1.1 for as long as e[k] < 1e20 (n = 774; the values are
// produced by that repeated double multiplication, as the published rule does). A value x falls
// in bucket [lo, hi) with lo <= x < hi (the top bucket also takes DBL_MAX), so every finite value
// is counted: NumPy's np.histogram(values, edges) gives the same counts.
//
// Stored like torch does: only the span from the first to the last non-empty bucket, preceded by
// one empty bucket whose right limit is the left edge of the first non-empty one (TensorBoard
// keeps right limits only). NaN and ±Inf are not binned: they are counted separately and left
// out of min, max, num, sum and sum_squares.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gb {

struct Histogram {
  double min = 0;
  double max = 0;
  double num = 0;  // finite values counted; equals the sum of `bucket`
  double sum = 0;
  double sum_squares = 0;
  std::vector<double> bucket_limit;  // right edge of each bucket, increasing
  std::vector<double> bucket;        // count of each bucket

  int64_t nan_count = 0;  // values left out
  int64_t inf_count = 0;  // +Inf and -Inf left out

  bool empty() const { return num == 0; }  // no finite value: nothing to write
};

// The edges above, from -DBL_MAX to DBL_MAX (2n + 3 values; computed once).
const std::vector<double>& default_bucket_edges();

Histogram make_histogram(std::span<const float> values);

}  // namespace gb
