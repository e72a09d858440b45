#include "analysis/value_histogram.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>

#include "export/histogram.h"

namespace gb::analysis {

const std::vector<double>& histogram_edges() {
  return default_bucket_edges();  // the same rule as the TensorBoard writer's histograms
}

namespace {

// The slice of |x| a float falls in: its top 14 bits after the sign (exponent and 6 mantissa
// bits), 1/64 of an octave, narrower than a 10% bucket, so at most one edge lies inside a slice.
constexpr int kSliceShift = 17;
constexpr uint32_t kAbsMask = 0x7fffffffu, kInfBits = 0x7f800000u;

// Per slice: how many positive edges lie below it, and the edge inside it (if any) as the two
// float thresholds that decide a value against it exactly: at[2·key] (a >= it <=> edge <= a)
// and at[2·key + 1] (a >= it <=> edge < a); +inf when the slice holds no edge. Every key has
// an entry, NaN and ±Inf included (their buckets are never used).
struct Slices {
  std::vector<int32_t> below;
  std::vector<float> at;
};

const Slices& slices() {
  static const Slices table = [] {
    const std::vector<double>& e = histogram_edges();
    const size_t zero = (e.size() - 1) / 2;
    // The positive edges e_0 .. e_{n-1} (the last edge, DBL_MAX, is above every float).
    const std::vector<double> pos(e.begin() + long(zero) + 1, e.end() - 1);
    const float inf = std::numeric_limits<float>::infinity();
    const size_t keys = size_t(1) << (31 - kSliceShift);
    Slices t{std::vector<int32_t>(keys, 0), std::vector<float>(2 * keys, inf)};
    for (size_t key = 0; key < size_t(kInfBits >> kSliceShift); ++key) {
      const double lo = double(std::bit_cast<float>(uint32_t(key << kSliceShift)));
      const double hi = double(std::bit_cast<float>(uint32_t((key + 1) << kSliceShift)));
      const auto first = std::lower_bound(pos.begin(), pos.end(), lo);
      t.below[key] = int32_t(first - pos.begin());
      if (first != pos.end() && *first < hi) {
        const double edge = *first;
        float f = float(edge);
        if (double(f) < edge) f = std::nextafter(f, inf);  // smallest float >= edge
        t.at[2 * key] = f;
        t.at[2 * key + 1] = double(f) == edge ? std::nextafter(f, inf) : f;  // smallest > edge
      }
    }
    return t;
  }();
  return table;
}

// idx[i] = the bucket of x[i], or -1 for NaN and ±Inf. x >= 0 (also -0): bucket
// [e_{k-1}, e_k) with k = edges <= x, at zero + k. x < 0: [-e_k, -e_{k-1}) with k = edges < |x|
// (a negative value on an edge belongs to the bucket above it), at zero - 1 - k = zero + ~k.
// No branches (the signs of activations are a coin toss for a branch predictor), and table
// loads the vectoriser turns into gathers.
[[gnu::target_clones("avx512f", "avx2", "default")]] void bucket_indices(
    const float* __restrict x, int64_t n, const int32_t* __restrict below,
    const float* __restrict at, int32_t zero, int32_t* __restrict idx) {
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(x[i]), abs_bits = bits & kAbsMask;
    const uint32_t key = abs_bits >> kSliceShift;
    const int32_t neg = int32_t(bits >> 31) & int32_t(abs_bits != 0);  // x < 0 (not -0)
    const int32_t k = below[key] + int32_t(std::bit_cast<float>(abs_bits) >= at[2 * key + neg]);
    const int32_t bad = -int32_t(abs_bits >= kInfBits);  // all ones (= -1) for NaN and ±Inf
    idx[i] = (zero + (k ^ -neg)) | bad;
  }
}

}  // namespace

void ValueHistogram::add(float x) {
  add_values(&x, 1);
}

void ValueHistogram::add_values(const float* x, int64_t n) {
  const Slices& t = slices();
  const int32_t zero = int32_t(counts_.size() / 2);  // bucket [0, e_0)
  constexpr int64_t kChunk = 512;
  int32_t idx[kChunk];
  int64_t skipped = 0;
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    bucket_indices(x + i0, m, t.below.data(), t.at.data(), zero, idx);
    for (int64_t i = 0; i < m; ++i) {
      if (idx[i] < 0) {
        ++skipped;
        continue;
      }
      ++counts_[size_t(idx[i])];
    }
  }
  total_ += n - skipped;
}

void ValueHistogram::merge(const ValueHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_ += other.total_;
}

namespace {

// First and one-past-last non-empty bucket; (0, 0) when all are empty.
std::pair<size_t, size_t> non_empty(const std::vector<int64_t>& counts) {
  size_t first = counts.size(), last = 0;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] != 0) {
      first = std::min(first, i);
      last = i + 1;
    }
  return last == 0 ? std::pair<size_t, size_t>{0, 0} : std::pair{first, last};
}

}  // namespace

std::vector<int64_t> ValueHistogram::span_counts() const {
  const auto [first, last] = non_empty(counts_);
  return {counts_.begin() + long(first), counts_.begin() + long(last)};
}

std::vector<double> ValueHistogram::span_edges() const {
  const auto [first, last] = non_empty(counts_);
  if (last == 0) return {};
  const std::vector<double>& e = histogram_edges();
  return {e.begin() + long(first), e.begin() + long(last) + 1};
}

double ValueHistogram::median_abs() const {
  if (total_ == 0) return 0;
  const std::vector<double>& e = histogram_edges();
  const size_t zero = (e.size() - 1) / 2;  // index of the edge 0
  // Bucket zero + k holds [e_k, e_k+1) for x >= 0; bucket zero − 1 − k holds [−e_k+1, −e_k).
  const int64_t half = (total_ + 1) / 2;
  int64_t seen = 0;
  for (size_t k = 0; zero + k < counts_.size(); ++k) {
    seen += counts_[zero + k] + counts_[zero - 1 - k];
    if (seen >= half) return e[zero + k + 1];
  }
  return e.back();
}

}  // namespace gb::analysis
