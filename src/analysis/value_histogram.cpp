#include "analysis/value_histogram.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "export/histogram.h"

namespace gb::analysis {

using namespace histogram_rule;

namespace {

// idx[i] = the bucket of x[i] (bucket_of_bits: kNotFinite for NaN and ±Inf). Widens [s_lo, s_hi]
// to the slice s of every bucket given: those lie in kZero + s and kZero − 1 − s (NaN and ±Inf
// widen s_hi to kSlices).
[[gnu::target_clones("avx512f", "avx2", "default")]] void bucket_indices(
    const float* __restrict x, int64_t n, int32_t* __restrict idx, int32_t& s_lo, int32_t& s_hi) {
  int32_t lo = s_lo, hi = s_hi;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t b = bucket_of_bits(std::bit_cast<uint32_t>(x[i]));
    const int32_t from_zero = b - kZero, s = from_zero ^ (from_zero >> 31);
    idx[i] = b;
    lo = std::min(lo, s);
    hi = std::max(hi, s);
  }
  s_lo = lo;
  s_hi = hi;
}

}  // namespace

void ValueHistogram::add(float x) {
  add_values(&x, 1);
}

void ValueHistogram::add_values(const float* x, int64_t n) {
  constexpr int64_t kMaxPerCall = int64_t(1) << 31;  // the partial counts below are 32-bit
  if (n > kMaxPerCall) {
    for (int64_t i = 0; i < n; i += kMaxPerCall) add_values(x + i, std::min(kMaxPerCall, n - i));
    return;
  }
  // Value i is counted in partial count i % kLanes first: neighbouring values often share a
  // bucket, and with a single counter each increment would wait for the previous one's store.
  // The partial counts are the thread's, zero between calls; their last slot counts NaN and ±Inf.
  constexpr int kLanes = 4;
  constexpr int64_t kChunk = 512;
  constexpr size_t kSlots = size_t(kBuckets) + 1;
  thread_local std::vector<uint32_t> partial;  // [kLanes, kSlots]
  if (partial.size() < kLanes * kSlots) partial.assign(kLanes * kSlots, 0);
  uint32_t* lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = partial.data() + l * kSlots;
  int32_t idx[kChunk];
  int32_t s_lo = kSlices, s_hi = 0;  // the slices seen (see bucket_indices)
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    bucket_indices(x + i0, m, idx, s_lo, s_hi);
    int64_t i = 0;
    for (; i + kLanes <= m; i += kLanes)
      for (int l = 0; l < kLanes; ++l) ++lane[l][idx[i + l]];
    for (; i < m; ++i) ++lane[0][idx[i]];
  }
  // fold the partial counts in, leaving them zero: buckets kZero + [s_lo, s_hi] and
  // kZero − 1 − [s_lo, s_hi]
  int64_t* counts = counts_.data();
  s_hi = std::min(s_hi, kSlices - 1);
  for (const int32_t first : {kZero + s_lo, kZero - 1 - s_hi}) {
    for (uint32_t* l : lane) {
      for (int32_t b = first; b <= first + s_hi - s_lo; ++b) {
        counts[b] += l[b];
        l[b] = 0;
      }
    }
  }
  int64_t skipped = 0;
  for (uint32_t* l : lane) {
    skipped += l[kNotFinite];
    l[kNotFinite] = 0;
  }
  total_ += n - skipped;
  if (s_lo <= s_hi) {
    s_lo_ = std::min(s_lo_, s_lo);
    s_hi_ = std::max(s_hi_, s_hi);
  }
}

void ValueHistogram::merge(const ValueHistogram& other) {
  for (int32_t s = other.s_lo_; s <= other.s_hi_; ++s)
    for (const int32_t bucket : {kZero + s, kZero - 1 - s})
      counts_[size_t(bucket)] += other.counts_[size_t(bucket)];
  total_ += other.total_;
  s_lo_ = std::min(s_lo_, other.s_lo_);
  s_hi_ = std::max(s_hi_, other.s_hi_);
}

void ValueHistogram::clear() {
  for (int32_t s = s_lo_; s <= s_hi_; ++s)
    for (const int32_t bucket : {kZero + s, kZero - 1 - s}) counts_[size_t(bucket)] = 0;
  total_ = 0;
  s_lo_ = kSlices;
  s_hi_ = -1;
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
  const std::vector<double>& e = default_bucket_edges();
  return {e.begin() + long(first), e.begin() + long(last) + 1};
}

double ValueHistogram::median_abs() const {
  if (total_ == 0) return 0;
  const std::vector<double>& e = default_bucket_edges();
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
