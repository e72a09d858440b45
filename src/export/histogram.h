// Histograms in TensorBoard's HistogramProto layout.
//
// Bucket rule (log-linear, the layout HdrHistogram uses): above 2^-40 the edges are the floats
// whose mantissa keeps only its top kKeptMantissaBits bits, ±2^e · (1 + j/8) for j = 0..7 and
// every float exponent e from -40 up, with ±2^128 outermost; every |x| below 2^-40 (about 1e-12,
// TensorFlow's smallest edge) falls in [0, 2^-40) or [-2^-40, 0):
//   -2^128, -1.875·2^127, …, -1.125, -1, -0.9375, …, -2^-40, 0, 2^-40, …, 1, 1.125, …, 2^128
// Each bucket but those two is 6.25–12.5% wide, as fine as TensorFlow's 10% rule, and a value's
// bucket is its bits shifted: no logarithm and no search, which is what lets `glassbox stats`
// count every value of every hook. The floor keeps the stored span (below) short: values of both
// signs span every bucket between them, down to the floor on either side, 642 buckets for values
// in [-1, 1) (2032 with edges down to the smallest float). A value x falls in [lo, hi) with
// lo <= x < hi, so every finite float is counted and NumPy's np.histogram(values, edges) gives the
// same counts.
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

namespace histogram_rule {
constexpr int kKeptMantissaBits = 3;
constexpr int kShift = 23 - kKeptMantissaBits;  // bits of a float below those that pick a bucket
constexpr uint32_t kAbsMask = 0x7fffffffu, kInfBits = 0x7f800000u;
// A slice of |x|: the bits of |x| shifted right by kShift (0 .. kSlices - 1 for finite floats).
constexpr int32_t kSlices = int32_t(kInfBits >> kShift);
constexpr int32_t kFloorSlice = (127 - 40) << kKeptMantissaBits;  // the slice starting at 2^-40
// Magnitude m of |x|: 0 below 2^-40, else its slice's rank from the floor's, 1 up.
constexpr int32_t kMagnitudes = kSlices - kFloorSlice + 1;
constexpr int32_t kZero = kMagnitudes;         // the bucket [0, 2^-40)
constexpr int32_t kBuckets = 2 * kMagnitudes;  // and the edges one more
constexpr int32_t kNotFinite = kBuckets;       // bucket_of_bits of NaN and ±Inf
}  // namespace histogram_rule

// The bucket of the float with these bits: [0, kBuckets) when finite, kNotFinite for NaN and
// ±Inf. Bucket kZero + m holds the x >= 0 of magnitude m; bucket kZero − 1 − m the negative x
// whose |x| less one ulp has magnitude m, so that a negative value on an edge goes to the bucket
// above it. `magnitude` gets m (for NaN and ±Inf, some m >= kMagnitudes − 1). Branch-free, so
// loops over it vectorise: m comes before its sign, and one select ends it.
inline int32_t bucket_of_bits(uint32_t bits, int32_t& magnitude) {
  using namespace histogram_rule;
  const uint32_t abs_bits = bits & kAbsMask;
  const int32_t negative = int32_t(bits) < 0 && abs_bits != 0 ? -1 : 0;  // not -0
  const int32_t slice = int32_t((abs_bits + uint32_t(negative)) >> kShift);
  magnitude = slice - (kFloorSlice - 1) > 0 ? slice - (kFloorSlice - 1) : 0;
  return abs_bits >= kInfBits ? kNotFinite : kZero + (magnitude ^ negative);
}
inline int32_t bucket_of_bits(uint32_t bits) {
  int32_t magnitude;
  return bucket_of_bits(bits, magnitude);
}

// The edges above, from -2^128 to 2^128 (kBuckets + 1 values; computed once).
const std::vector<double>& default_bucket_edges();

Histogram make_histogram(std::span<const float> values);

}  // namespace gb
