#include "analysis/value_histogram.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "export/histogram.h"

namespace gb::analysis {

const std::vector<double>& histogram_edges() {
  return default_bucket_edges();  // the same rule as the TensorBoard writer's histograms
}

namespace {

// A first guess of the bucket of |x| from the top 14 bits of its float representation (exponent
// and 6 mantissa bits): 1/64 of an octave, ~1.1% of its values, narrower than a 10% bucket. The
// guess is that of the logarithm rule at the bottom of the slice; add() then corrects it
// against the exact edges, so the table only saves the logarithm, never changes a result.
constexpr int kGuessShift = 17;

size_t log_guess(double a, size_t zero) {
  if (a < 1e-12) return 1;
  const double guess = std::floor(std::log(a / 1e-12) / std::log(1.1)) + 1;
  return size_t(std::clamp(guess, 1.0, double(zero - 1)));
}

const std::vector<uint16_t>& bucket_guesses() {
  static const std::vector<uint16_t> table = [] {
    const size_t zero = (histogram_edges().size() - 1) / 2;
    std::vector<uint16_t> t(size_t(1) << (32 - kGuessShift));
    for (size_t key = 0; key < t.size(); ++key) {
      float lo;
      const uint32_t bits = uint32_t(key) << kGuessShift;
      std::memcpy(&lo, &bits, sizeof lo);
      t[key] = uint16_t(std::isfinite(lo) ? log_guess(double(lo), zero) : zero - 1);
    }
    return t;
  }();
  return table;
}

}  // namespace

void ValueHistogram::add(float x) {
  const std::vector<double>& e = histogram_edges();
  const size_t zero = (e.size() - 1) / 2;  // index of the edge 0
  const double a = std::fabs(double(x));
  // k: the bucket of |x| among [0, e_0), [e_0, e_1), ... guessed (bucket_guesses), then
  // corrected against the exact edges (which repeated multiplication produced).
  size_t k = 0;
  if (a >= 1e-12) {
    uint32_t bits;
    const float af = std::fabs(x);
    std::memcpy(&bits, &af, sizeof bits);
    k = bucket_guesses()[bits >> kGuessShift];
    while (k > 1 && a < e[zero + k]) --k;
    while (k + 1 < zero && a >= e[zero + k + 1]) ++k;
  }
  if (x >= 0) {
    ++counts_[zero + k];  // [e_{k-1}, e_k), or [0, e_0) for k = 0
  } else {
    // Negative buckets are [−e_k, −e_{k−1}): −x on an edge belongs to the bucket above.
    size_t j = zero - 1 - k;
    if (k > 0 && a == e[zero + k]) ++j;
    ++counts_[j];
  }
  ++total_;
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
