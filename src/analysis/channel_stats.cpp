#include "analysis/channel_stats.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <vector>

namespace gb::analysis {

ChannelStats::ChannelStats(int64_t channels, float fire_threshold)
    : count(size_t(channels), 0),
      zeros(size_t(channels), 0),
      above(size_t(channels), 0),
      nans(size_t(channels), 0),
      infs(size_t(channels), 0),
      mean(size_t(channels), 0.0),
      m2(size_t(channels), 0.0),
      sum_abs(size_t(channels), 0.0),
      min(size_t(channels), std::numeric_limits<float>::infinity()),
      max(size_t(channels), -std::numeric_limits<float>::infinity()),
      abs_max(size_t(channels), 0.0f),
      fire_threshold_(fire_threshold) {}

double ChannelStats::variance(int64_t c) const {
  return count[size_t(c)] > 0 ? m2[size_t(c)] / double(count[size_t(c)]) : 0.0;
}

bool ChannelStats::note(size_t i, float v) {
  if (std::isnan(v)) {
    ++nans[i];
    return false;
  }
  if (std::isinf(v)) {
    ++infs[i];
    return false;
  }
  const float a = std::fabs(v);
  sum_abs[i] += a;
  zeros[i] += v == 0.0f;
  above[i] += v > fire_threshold_;
  if (v < min[i]) min[i] = v;
  if (v > max[i]) max[i] = v;
  if (a > abs_max[i]) abs_max[i] = a;
  return true;
}

namespace {

// Chan et al.'s parallel update of w channels that all had `before` values, each merged with a
// block of n more (block_mean, block_m2: its mean and sum of squared deviations).
[[gnu::target_clones("avx2", "default")]] void merge_moments(int64_t w, double before, double n,
                                                             const double* __restrict block_mean,
                                                             const double* __restrict block_m2,
                                                             double* __restrict mean,
                                                             double* __restrict m2) {
  const double total = before + n, a = n / total, b = before * n / total;
  for (int64_t i = 0; i < w; ++i) {
    const double delta = block_mean[i] - mean[i];
    mean[i] += delta * a;
    m2[i] += block_m2[i] + delta * delta * b;
  }
}

}  // namespace

void ChannelStats::merge(int64_t c, int64_t n, double block_mean, double block_m2) {
  const size_t i = size_t(c);
  if (n == 0) return;
  merge_moments(1, double(count[i]), double(n), &block_mean, &block_m2, &mean[i], &m2[i]);
  count[i] += n;
}

void ChannelStats::add_rows(const float* x, int64_t rows) {
  add_rows(x, rows, 0, channels());
}

namespace {

// The loops below run over channels, contiguous in a row, so that they vectorise; one copy is
// compiled for AVX2 and picked at load time where the CPU has it.

// True when every value of the block x[r * stride + c], r < rows, c < w is finite.
[[gnu::target_clones("avx2", "default")]] bool all_finite(const float* x, int64_t rows,
                                                          int64_t stride, int64_t w) {
  uint32_t bad = 0;
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * stride;
    for (int64_t c = 0; c < w; ++c)
      bad |= uint32_t((std::bit_cast<uint32_t>(row[c]) & 0x7fffffffu) >= 0x7f800000u);
  }
  return bad == 0;
}

// One block's per-channel sums, every array [w].
struct BlockSums {
  double *sum, *sum_abs, *dev;
  float *min, *max, *abs_max;
  int32_t *zeros, *above;
};

// Sums, extremes and counts of a finite block.
[[gnu::target_clones("avx2", "default")]] void block_sums(const float* x, int64_t rows,
                                                          int64_t stride, int64_t w,
                                                          float threshold, const BlockSums& b) {
  // Distinct arrays: __restrict lets the loop vectorise without overlap checks.
  double* __restrict sum = b.sum;
  double* __restrict sum_abs = b.sum_abs;
  float* __restrict lo = b.min;
  float* __restrict hi = b.max;
  float* __restrict abs_hi = b.abs_max;
  int32_t* __restrict zeros = b.zeros;
  int32_t* __restrict above = b.above;
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict row = x + r * stride;
    // Three loops, one per element type: GCC vectorises each, not their fusion.
    for (int64_t c = 0; c < w; ++c) {
      sum[c] += double(row[c]);
      sum_abs[c] += double(std::fabs(row[c]));
    }
    for (int64_t c = 0; c < w; ++c) {
      const float v = row[c], a = std::fabs(v);
      lo[c] = v < lo[c] ? v : lo[c];
      hi[c] = v > hi[c] ? v : hi[c];
      abs_hi[c] = a > abs_hi[c] ? a : abs_hi[c];
    }
    for (int64_t c = 0; c < w; ++c) {
      zeros[c] += row[c] == 0.0f ? 1 : 0;
      above[c] += row[c] > threshold ? 1 : 0;
    }
  }
}

// dev[c] = Σ_r (x[r, c] − mean[c])², the second pass over a finite block.
[[gnu::target_clones("avx2", "default")]] void block_deviations(const float* x, int64_t rows,
                                                                int64_t stride, int64_t w,
                                                                const double* __restrict mean,
                                                                double* __restrict dev) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* __restrict row = x + r * stride;
    for (int64_t c = 0; c < w; ++c) {
      const double d = double(row[c]) - mean[c];
      dev[c] += d * d;
    }
  }
}

// The block's extremes and counts folded into the running ones, w channels.
[[gnu::target_clones("avx2", "default")]] void merge_extremes(
    int64_t w, const BlockSums& blk, double* __restrict sum_abs, int64_t* __restrict zeros,
    int64_t* __restrict above, float* __restrict lo, float* __restrict hi,
    float* __restrict abs_hi) {
  const double* __restrict b_abs = blk.sum_abs;
  const int32_t* __restrict b_zeros = blk.zeros;
  const int32_t* __restrict b_above = blk.above;
  const float* __restrict b_lo = blk.min;
  const float* __restrict b_hi = blk.max;
  const float* __restrict b_abs_hi = blk.abs_max;
  for (int64_t i = 0; i < w; ++i) {
    sum_abs[i] += b_abs[i];
    zeros[i] += b_zeros[i];
    above[i] += b_above[i];
    lo[i] = b_lo[i] < lo[i] ? b_lo[i] : lo[i];
    hi[i] = b_hi[i] > hi[i] ? b_hi[i] : hi[i];
    abs_hi[i] = b_abs_hi[i] > abs_hi[i] ? b_abs_hi[i] : abs_hi[i];
  }
}

// The finite block b of `rows` rows (block means in b.sum) merged into channels [c0, c0 + w) of s.
void merge_block(ChannelStats& s, int64_t c0, int64_t w, int64_t rows, const BlockSums& b) {
  const size_t c = size_t(c0);
  // Every channel of the range has seen the same number of values unless an earlier block held
  // NaN or Inf; then channel by channel.
  const bool same = std::all_of(s.count.begin() + c0, s.count.begin() + c0 + w,
                                [&](int64_t n) { return n == s.count[c]; });
  if (same) {
    merge_moments(w, double(s.count[c]), double(rows), b.sum, b.dev, s.mean.data() + c,
                  s.m2.data() + c);
  } else {
    for (size_t i = 0; i < size_t(w); ++i)
      merge_moments(1, double(s.count[c + i]), double(rows), b.sum + i, b.dev + i, &s.mean[c + i],
                    &s.m2[c + i]);
  }
  for (size_t i = 0; i < size_t(w); ++i) s.count[c + i] += rows;
  merge_extremes(w, b, s.sum_abs.data() + c, s.zeros.data() + c, s.above.data() + c,
                 s.min.data() + c, s.max.data() + c, s.abs_max.data() + c);
}

}  // namespace

void ChannelStats::add_rows(const float* x, int64_t rows, int64_t c0, int64_t c1) {
  const int64_t C = channels(), w = c1 - c0;
  if (rows == 0 || w == 0) return;
  if (!all_finite(x + c0, rows, C, w)) return add_rows_checked(x, rows, c0, c1);
  // The common case: no NaN or Inf, each channel's block sums in the vectorised loops (the
  // same sums, in the same order, as add_rows_checked).
  thread_local std::vector<double> dsum, dabs, ddev;
  thread_local std::vector<float> fmin, fmax, famax;
  thread_local std::vector<int32_t> nzero, nabove;
  const size_t n = size_t(w);
  const float inf = std::numeric_limits<float>::infinity();
  dsum.assign(n, 0.0), dabs.assign(n, 0.0), ddev.assign(n, 0.0);
  fmin.assign(n, inf), fmax.assign(n, -inf), famax.assign(n, 0.0f);
  nzero.assign(n, 0), nabove.assign(n, 0);
  const BlockSums b{dsum.data(), dabs.data(),  ddev.data(),  fmin.data(),
                    fmax.data(), famax.data(), nzero.data(), nabove.data()};
  block_sums(x + c0, rows, C, w, fire_threshold_, b);
  for (size_t i = 0; i < n; ++i) dsum[i] /= double(rows);  // now the block mean
  block_deviations(x + c0, rows, C, w, dsum.data(), ddev.data());
  merge_block(*this, c0, w, rows, b);
}

void ChannelStats::add_rows_checked(const float* x, int64_t rows, int64_t c0, int64_t c1) {
  const int64_t C = channels(), w = c1 - c0;
  std::vector<double> sum(size_t(w), 0.0), dev(size_t(w), 0.0);
  std::vector<int64_t> n(size_t(w), 0);
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * C;
    for (int64_t c = c0; c < c1; ++c) {
      if (!note(size_t(c), row[c])) continue;
      ++n[size_t(c - c0)];
      sum[size_t(c - c0)] += row[c];
    }
  }
  for (int64_t i = 0; i < w; ++i)
    if (n[size_t(i)] > 0) sum[size_t(i)] /= double(n[size_t(i)]);  // now the block mean
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = x + r * C;
    for (int64_t c = c0; c < c1; ++c)
      if (std::isfinite(row[c])) {
        const double d = double(row[c]) - sum[size_t(c - c0)];
        dev[size_t(c - c0)] += d * d;
      }
  }
  for (int64_t i = 0; i < w; ++i) merge(c0 + i, n[size_t(i)], sum[size_t(i)], dev[size_t(i)]);
}

void ChannelStats::add_values(int64_t channel, std::span<const float> values) {
  const size_t i = size_t(channel);
  double sum = 0;
  int64_t n = 0;
  for (float v : values) {
    if (!note(i, v)) continue;
    ++n;
    sum += v;
  }
  if (n == 0) return;
  const double m = sum / double(n);
  double dev = 0;
  for (float v : values)
    if (std::isfinite(v)) dev += (double(v) - m) * (double(v) - m);
  merge(channel, n, m, dev);
}

}  // namespace gb::analysis
