#include "analysis/value_histogram.h"

#include <algorithm>
#include <bit>
#include <cstdint>

#include "export/histogram.h"

namespace gb::analysis {

using namespace histogram_rule;

namespace {

// idx[i] = the bucket of x[i] (bucket_of_bits: kNotFinite for NaN and ±Inf). Widens [m_lo, m_hi]
// to the magnitude m of every bucket given: those lie in kZero + m and kZero − 1 − m (NaN and ±Inf
// widen m_hi to kMagnitudes).
[[gnu::target_clones("avx512f", "avx2", "default")]] void bucket_indices(
    const float* __restrict x, int64_t n, int32_t* __restrict idx, int32_t& m_lo, int32_t& m_hi) {
  int32_t lo = m_lo, hi = m_hi;
  for (int64_t i = 0; i < n; ++i) {
    const int32_t b = bucket_of_bits(std::bit_cast<uint32_t>(x[i]));
    const int32_t from_zero = b - kZero, m = from_zero ^ (from_zero >> 31);
    idx[i] = b;
    lo = std::min(lo, m);
    hi = std::max(hi, m);
  }
  m_lo = lo;
  m_hi = hi;
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
  int32_t m_lo = kMagnitudes, m_hi = 0;  // the magnitudes seen (see bucket_indices)
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t len = std::min(kChunk, n - i0);
    bucket_indices(x + i0, len, idx, m_lo, m_hi);
    int64_t i = 0;
    for (; i + kLanes <= len; i += kLanes)
      for (int l = 0; l < kLanes; ++l) ++lane[l][idx[i + l]];
    for (; i < len; ++i) ++lane[0][idx[i]];
  }
  // fold the partial counts in, leaving them zero: buckets kZero + [m_lo, m_hi] and
  // kZero − 1 − [m_lo, m_hi]
  int64_t* counts = counts_.data();
  m_hi = std::min(m_hi, kMagnitudes - 1);
  for (const int32_t first : {kZero + m_lo, kZero - 1 - m_hi}) {
    for (uint32_t* l : lane) {
      for (int32_t b = first; b <= first + m_hi - m_lo; ++b) {
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
  if (m_lo <= m_hi) {
    m_lo_ = std::min(m_lo_, m_lo);
    m_hi_ = std::max(m_hi_, m_hi);
  }
}

void ValueHistogram::merge(const ValueHistogram& other) {
  for (int32_t m = other.m_lo_; m <= other.m_hi_; ++m)
    for (const int32_t bucket : {kZero + m, kZero - 1 - m})
      counts_[size_t(bucket)] += other.counts_[size_t(bucket)];
  total_ += other.total_;
  m_lo_ = std::min(m_lo_, other.m_lo_);
  m_hi_ = std::max(m_hi_, other.m_hi_);
}

void ValueHistogram::clear() {
  for (int32_t m = m_lo_; m <= m_hi_; ++m)
    for (const int32_t bucket : {kZero + m, kZero - 1 - m}) counts_[size_t(bucket)] = 0;
  total_ = 0;
  m_lo_ = kMagnitudes;
  m_hi_ = -1;
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
