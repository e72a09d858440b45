#include "export/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gb {
namespace {

using namespace histogram_rule;

// The lower edge of magnitude m: 0 for m = 0, else the float with the bits of its slice
// (2^128 past the largest, where those bits would be +Inf).
double magnitude_edge(int32_t m) {
  if (m == 0) return 0.0;
  const int32_t slice = kFloorSlice + m - 1;
  return slice < kSlices ? double(std::bit_cast<float>(uint32_t(slice) << kShift))
                         : std::ldexp(1.0, 128);
}

std::vector<double> build_edges() {
  std::vector<double> edges(size_t(kBuckets) + 1);
  for (int32_t i = 0; i <= kBuckets; ++i)
    edges[size_t(i)] = i < kZero ? -magnitude_edge(kZero - i) : magnitude_edge(i - kZero);
  return edges;
}

size_t bucket_of(float x) {
  return size_t(bucket_of_bits(std::bit_cast<uint32_t>(x)));
}

}  // namespace

const std::vector<double>& default_bucket_edges() {
  static const std::vector<double> edges = build_edges();
  return edges;
}

Histogram make_histogram(std::span<const float> values) {
  std::vector<int64_t> counts(size_t(kBuckets), 0);
  Histogram h;
  h.min = INFINITY;
  h.max = -INFINITY;
  for (float f : values) {
    if (std::isnan(f)) {
      ++h.nan_count;
      continue;
    }
    if (std::isinf(f)) {
      ++h.inf_count;
      continue;
    }
    double x = f;
    h.min = std::min(h.min, x);
    h.max = std::max(h.max, x);
    h.num += 1;
    h.sum += x;
    h.sum_squares += x * x;
    ++counts[bucket_of(f)];
  }
  if (h.empty()) {
    h.min = h.max = 0;
    return h;
  }
  const std::vector<double>& edges = default_bucket_edges();
  const size_t first = bucket_of(float(h.min)), last = bucket_of(float(h.max));
  h.bucket_limit.push_back(edges[first]);  // the empty bucket that marks the left edge
  h.bucket.push_back(0);
  for (size_t b = first; b <= last; ++b) {
    h.bucket_limit.push_back(edges[b + 1]);
    h.bucket.push_back(double(counts[b]));
  }
  return h;
}

}  // namespace gb
