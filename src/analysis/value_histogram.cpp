#include "analysis/value_histogram.h"

#include <algorithm>
#include <bit>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>

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

// The bucket of a value by the table: x >= 0 (also -0): bucket [e_{k-1}, e_k) with k = edges
// <= x, at zero + k. x < 0: [-e_k, -e_{k-1}) with k = edges < |x| (a negative value on an edge
// belongs to the bucket above it), at zero - 1 - k = zero + ~k. -1 for NaN and ±Inf.
int32_t exact_bucket(float x, int32_t zero) {
  const Slices& t = slices();
  const uint32_t bits = std::bit_cast<uint32_t>(x), abs_bits = bits & kAbsMask;
  if (abs_bits >= kInfBits) return -1;
  const uint32_t key = abs_bits >> kSliceShift;
  const int32_t neg = int32_t(bits >> 31) & int32_t(abs_bits != 0);  // x < 0 (not -0)
  const int32_t k = t.below[key] + int32_t(std::bit_cast<float>(abs_bits) >= t.at[2 * key + neg]);
  return zero + (k ^ -neg);
}

// The edge coordinate t(x) = log_1.1(|x| / e_0) + kShift has edge e_k at t = k + kShift (to
// within rounding far below kUnsureWidth: the edges are e_0 · 1.1^k, rounded to double). With
// |x| = 2^E · (1 + f), f in [0, 1): t = E · per_octave + q(f), q a polynomial (kShift keeps t
// positive where it matters, so that truncation is a floor).
constexpr float kShift = 64.0f;
constexpr float kUnsureWidth = 1e-3f;
constexpr int32_t kUnsure = -2;

struct LogBuckets {
  int32_t zero;      // bucket [0, e_0)
  int32_t edges;     // n, the positive edges below DBL_MAX
  float per_octave;  // 1 / log2(1.1)
  float q[6];        // q(f) = q[0] + q[1] f + … + q[5] f^5
};

const LogBuckets& log_buckets() {
  static const LogBuckets b = [] {
    const std::vector<double>& e = histogram_edges();
    const size_t zero = (e.size() - 1) / 2;
    // log2(1 + f) on [0, 1) to within 1.5e-5 (a least-squares fit on Chebyshev nodes), which is
    // 1.1e-4 in t.
    const double log2_1p[6] = {1.4390929996110913e-05, 1.441592077206542,   -0.707253433574302,
                               0.41156148231029727,    -0.1898324465264721, 0.04392862784786117};
    const double per = 1.0 / std::log2(1.1);
    LogBuckets b{int32_t(zero), int32_t(e.size() - 3) / 2, float(per), {}};
    for (int i = 0; i < 6; ++i) b.q[i] = float(per * log2_1p[i]);
    b.q[0] = float(per * (log2_1p[0] - std::log2(e[zero + 1])) + kShift);
    return b;
  }();
  return b;
}

// idx[i] = the bucket of x[i] (as exact_bucket) from t(x): k = floor(t) − kShift + 1 edges lie at
// or below |x|, clamped to [0, n], unless t is within kUnsureWidth of a whole number k + kShift
// with k an edge: those values (about 0.2%) get kUnsure and go through exact_bucket. Values below
// e_0 (0 and subnormals included) land far below kShift, values above e_{n-1} (±Inf and NaN
// included) far above it. No branches and no table: the signs of activations are a coin toss for
// a branch predictor, and the table would take two gathers per vector. The selections are
// written with masks (0 or all ones), which GCC vectorises where it gives up on nested ?:.
// Widens [k_lo, k_hi] to the k of every value: the buckets given lie in zero + [k_lo, k_hi] and
// zero - 1 - [k_lo, k_hi].
[[gnu::target_clones("avx512f", "avx2", "default")]] void bucket_indices(
    const float* __restrict x, int64_t n, const LogBuckets& b, int32_t* __restrict idx,
    int32_t& k_lo, int32_t& k_hi) {
  int32_t lo = k_lo, hi = k_hi;
  const int32_t zero = b.zero, edges = b.edges;
  const float per = b.per_octave, q0 = b.q[0], q1 = b.q[1], q2 = b.q[2], q3 = b.q[3], q4 = b.q[4],
              q5 = b.q[5];
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = std::bit_cast<uint32_t>(x[i]), abs_bits = bits & kAbsMask;
    const float f = std::bit_cast<float>((abs_bits & 0x007fffffu) | 0x3f800000u) - 1.0f;
    const float octave = float(int32_t(abs_bits >> 23) - 127);
    const float t = octave * per + (q0 + f * (q1 + f * (q2 + f * (q3 + f * (q4 + f * q5)))));
    const int32_t whole = int32_t(t), k_raw = whole - int32_t(kShift) + 1;
    const float frac = t - float(whole);
    const int32_t k = std::min(std::max(k_raw, 0), edges);
    const int32_t unsure = int32_t(uint32_t(k_raw) <= uint32_t(edges + 1)) &
                           (int32_t(frac < kUnsureWidth) | int32_t(frac > 1.0f - kUnsureWidth));
    const int32_t neg = int32_t(int32_t(bits) < 0) & int32_t(abs_bits != 0);  // x < 0 (not -0)
    const int32_t bucket = zero + (k ^ -neg);
    const int32_t bad = -int32_t(abs_bits >= kInfBits);
    idx[i] = (kUnsure & -unsure) | (bucket & (unsure - 1)) | bad;
    lo = std::min(lo, k);
    hi = std::max(hi, k);
  }
  k_lo = lo;
  k_hi = hi;
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
  const LogBuckets& b = log_buckets();
  int64_t* counts = counts_.data();
  const uint32_t buckets = uint32_t(counts_.size());
  // Value i is counted in partial count i % kLanes first: neighbouring values often share a
  // bucket, and with a single counter each increment would wait for the previous one's store.
  // The partial counts are the thread's, zero between calls.
  constexpr int kLanes = 4;
  constexpr int64_t kChunk = 512;
  thread_local std::vector<uint32_t> partial;  // [kLanes, buckets]
  if (partial.size() < kLanes * buckets) partial.assign(kLanes * buckets, 0);
  uint32_t* lane[kLanes];
  for (int l = 0; l < kLanes; ++l) lane[l] = partial.data() + l * buckets;
  int32_t idx[kChunk];
  int64_t skipped = 0;
  int32_t k_lo = b.edges, k_hi = 0;        // the range of k of the values seen (see bucket_indices)
  auto slow = [&](int64_t i, int32_t k) {  // NaN, ±Inf, or a value too close to an edge
    const int32_t bucket = k == kUnsure ? exact_bucket(x[i], b.zero) : -1;
    if (bucket >= 0)
      ++counts[bucket];
    else
      ++skipped;
  };
  for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
    const int64_t m = std::min(kChunk, n - i0);
    bucket_indices(x + i0, m, b, idx, k_lo, k_hi);
    int64_t i = 0;
    for (; i + kLanes <= m; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const uint32_t k = uint32_t(idx[i + l]);
        if (k < buckets)
          ++lane[l][k];
        else
          slow(i0 + i + l, idx[i + l]);
      }
    }
    for (; i < m; ++i) {
      if (uint32_t(idx[i]) < buckets)
        ++lane[0][idx[i]];
      else
        slow(i0 + i, idx[i]);
    }
  }
  // fold the partial counts in, leaving them zero
  for (int32_t k = k_lo; k <= k_hi; ++k) {
    for (const int32_t bucket : {b.zero + k, b.zero - 1 - k}) {
      for (uint32_t* l : lane) {
        counts[bucket] += l[bucket];
        l[bucket] = 0;
      }
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
