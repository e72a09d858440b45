#include "analysis/channel_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace gb::analysis {

ChannelStats::ChannelStats(int64_t channels, float fire_threshold)
    : fire_threshold_(fire_threshold) {
  reset(channels);
}

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

// The strips of add_rows, and the runs of channels that merge() takes at a time.
constexpr int64_t kStrip = ChannelStats::kStrip;

// Sums and extremes of some channels' values, [channel] each.
struct Extremes {
  const double* sum_abs;
  const int64_t *zeros, *above;
  const float *min, *max, *abs_max;
  static Extremes of(const ChannelStats& s, size_t c) {
    return {&s.sum_abs[c], &s.zeros[c], &s.above[c], &s.min[c], &s.max[c], &s.abs_max[c]};
  }
};

// Channels [c, c + w) of s merged with o's. Inlined where w is kStrip, the loop has a fixed
// length and is vectorised (scalar, it took more than summing the 32-row blocks merged: embedded
// model decoding, one thread).
inline void merge_extremes(ChannelStats& s, size_t c, size_t w, const Extremes& o) {
  double* __restrict sum_abs = &s.sum_abs[c];
  int64_t* __restrict zeros = &s.zeros[c];
  int64_t* __restrict above = &s.above[c];
  float* __restrict min = &s.min[c];
  float* __restrict max = &s.max[c];
  float* __restrict abs_max = &s.abs_max[c];
  // (Loops of one element size each, and o's pointers read once: else not vectorised.)
  const Extremes e = o;
  for (size_t i = 0; i < w; ++i) {
    sum_abs[i] += e.sum_abs[i];
    zeros[i] += e.zeros[i];
    above[i] += e.above[i];
  }
  for (size_t i = 0; i < w; ++i) {
    min[i] = e.min[i] < min[i] ? e.min[i] : min[i];
    max[i] = e.max[i] > max[i] ? e.max[i] : max[i];
    abs_max[i] = e.abs_max[i] > abs_max[i] ? e.abs_max[i] : abs_max[i];
  }
}

// Channels [c, c + w) of s merged with blocks of n[i] values (block_mean, block_m2), their
// counts included. Every channel has seen the same number of values, and every block is of one
// size, unless NaN or Inf came: then one vector update (called per channel, merge_moments took
// 0.9% of a two-thread prefill pass, llama100m q8_0 at 128 tokens, and 0.14% so); else channel
// by channel, skipping empty blocks.
void merge_blocks(ChannelStats& s, size_t c, size_t w, const int64_t* n, const double* block_mean,
                  const double* block_m2) {
  const auto same = [&](const int64_t* v) {
    return std::all_of(v, v + w, [&](int64_t x) { return x == v[0]; });
  };
  if (same(&s.count[c]) && same(n)) {
    if (n[0] > 0)
      merge_moments(int64_t(w), double(s.count[c]), double(n[0]), block_mean, block_m2, &s.mean[c],
                    &s.m2[c]);
  } else {
    for (size_t i = 0; i < w; ++i)
      if (n[i] > 0)
        merge_moments(1, double(s.count[c + i]), double(n[i]), &block_mean[i], &block_m2[i],
                      &s.mean[c + i], &s.m2[c + i]);
  }
  for (size_t i = 0; i < w; ++i) s.count[c + i] += n[i];
}

}  // namespace

void ChannelStats::merge(int64_t c, int64_t n, double block_mean, double block_m2) {
  merge_blocks(*this, size_t(c), 1, &n, &block_mean, &block_m2);
}

void ChannelStats::merge(const ChannelStats& o) {
  const size_t C = count.size();
  if (C == 0) return;
  merge_blocks(*this, 0, C, o.count.data(), o.mean.data(), o.m2.data());
  size_t c = 0;
  for (; c + size_t(kStrip) <= C; c += size_t(kStrip))
    merge_extremes(*this, c, size_t(kStrip), Extremes::of(o, c));
  merge_extremes(*this, c, C - c, Extremes::of(o, c));
  for (size_t i = 0; i < C; ++i) {
    nans[i] += o.nans[i];
    infs[i] += o.infs[i];
  }
}

void ChannelStats::reset(int64_t channels) {
  const size_t n = size_t(channels);
  for (auto* v : {&count, &zeros, &above, &nans, &infs}) v->assign(n, 0);
  for (auto* v : {&mean, &m2, &sum_abs}) v->assign(n, 0.0);
  min.assign(n, std::numeric_limits<float>::infinity());
  max.assign(n, -std::numeric_limits<float>::infinity());
  abs_max.assign(n, 0.0f);
}

namespace {

// A block is summarised kStrip channels at a time, in one pass over the strip's rows with every
// sum in registers, then one update of the running statistics per strip. The squared deviations
// are summed around a shift near the mean (the channel's running mean, or the block's first
// value): with d = x − shift, Σ(x − mean)² = Σd² − (Σd)²/n loses nothing that matters when the
// shift is within many standard deviations of the mean. The sums of d, d² and |x| run in float
// over kRun rows at a time and are then added into double ones: a float sum of kRun terms of one
// sign is within (kRun − 1) · 2^-24 of the exact one, so Σd², Σ|x| and the variance are within
// about 1e-6 of exact (relative), and the mean within about 1e-6 standard deviations, which is as
// fine as the float activations themselves, at half the vector work of summing every value in
// double (llama100m-shaped blocks, Zen 4: 0.25-0.27 -> 0.15-0.18 ns per value).
constexpr int64_t kRun = 16;

// One strip's statistics over a finite block, per channel.
struct StripSums {
  double mean[kStrip], m2[kStrip], sum_abs[kStrip];
  float min[kStrip], max[kStrip], abs_max[kStrip];
  int64_t zeros[kStrip], above[kStrip];
};

// The statistics of x[r * stride + c], r < rows, c < kStrip, summed around shift[c]. False when
// a sum is not finite, and out is not to be used: when the strip holds NaN or ±Inf, or values so
// large that a float sum of them overflows (add_rows_checked then counts them in double).
[[gnu::target_clones("avx512f", "avx2", "default")]] bool strip_sums(const float* x, int64_t rows,
                                                                     int64_t stride,
                                                                     const float* shift,
                                                                     float threshold,
                                                                     StripSums& out) {
  double sum[kStrip] = {}, sum_abs[kStrip] = {}, sq[kStrip] = {};
  float lo[kStrip], hi[kStrip];
  int32_t zeros[kStrip] = {}, above[kStrip] = {};
  for (int64_t c = 0; c < kStrip; ++c) {
    lo[c] = std::numeric_limits<float>::infinity();
    hi[c] = -std::numeric_limits<float>::infinity();
  }
  for (int64_t r0 = 0; r0 < rows; r0 += kRun) {
    float run_sum[kStrip] = {}, run_abs[kStrip] = {}, run_sq[kStrip] = {};
    for (int64_t r = r0; r < std::min(rows, r0 + kRun); ++r) {
      const float* __restrict row = x + r * stride;
      for (int64_t c = 0; c < kStrip; ++c) {
        const float v = row[c], d = v - shift[c];
        run_sum[c] += d;
        run_sq[c] += d * d;
        run_abs[c] += std::fabs(v);
        lo[c] = v < lo[c] ? v : lo[c];
        hi[c] = v > hi[c] ? v : hi[c];
        zeros[c] += v == 0.0f ? 1 : 0;
        above[c] += v > threshold ? 1 : 0;
      }
    }
    for (int64_t c = 0; c < kStrip; ++c) {
      sum[c] += double(run_sum[c]);
      sq[c] += double(run_sq[c]);
      sum_abs[c] += double(run_abs[c]);
    }
  }
  double total = 0;
  // NaN if a sum is not finite. Σd is finite whenever Σd² is: a run's Σd overflows only when
  // some |d| exceeds FLT_MAX / kRun, far past the 2^64 from which d² overflows.
  for (int64_t c = 0; c < kStrip; ++c) total += (sq[c] + sum_abs[c]) * 0.0;
  if (total != 0.0) return false;
  const double n = double(rows);
  for (int64_t c = 0; c < kStrip; ++c) {
    const double dm = sum[c] / n;
    out.mean[c] = double(shift[c]) + dm;
    out.m2[c] = std::max(0.0, sq[c] - sum[c] * dm);
    out.sum_abs[c] = sum_abs[c];
    out.min[c] = lo[c];
    out.max[c] = hi[c];
    out.abs_max[c] = std::max(-lo[c], hi[c]);
    out.zeros[c] = zeros[c];
    out.above[c] = above[c];
  }
  return true;
}

// The strip b of a finite block of `rows` rows merged into channels [c0, c0 + w) of s.
void merge_strip(ChannelStats& s, int64_t c0, int64_t w, int64_t rows, const StripSums& b) {
  const size_t c = size_t(c0);
  int64_t n[kStrip] = {};
  std::fill_n(n, w, rows);
  merge_blocks(s, c, size_t(w), n, b.mean, b.m2);
  const Extremes e{b.sum_abs, b.zeros, b.above, b.min, b.max, b.abs_max};
  if (w == kStrip)
    merge_extremes(s, c, size_t(kStrip), e);
  else
    merge_extremes(s, c, size_t(w), e);
}

}  // namespace

void ChannelStats::add_rows(const float* x, int64_t rows) {
  add_rows(x, rows, 0, channels());
}

void ChannelStats::add_rows(const float* x, int64_t rows, int64_t c0, int64_t c1) {
  const int64_t C = channels();
  if (rows == 0 || c1 == c0) return;
  // Strips with NaN or Inf go value by value through add_rows_checked; the others (the common
  // case) get the same statistics in a different order of summation.
  StripSums b;
  float shift[kStrip];
  auto add_strip = [&](const float* strip, int64_t stride, int64_t c, int64_t w) {
    for (int64_t i = 0; i < kStrip; ++i)
      shift[i] = i >= w ? 0.0f : count[size_t(c + i)] > 0 ? float(mean[size_t(c + i)]) : strip[i];
    if (strip_sums(strip, rows, stride, shift, fire_threshold_, b))
      merge_strip(*this, c, w, rows, b);
    else
      add_rows_checked(x, rows, c, c + w);
  };
  int64_t c = c0;
  for (; c + kStrip <= c1; c += kStrip) add_strip(x + c, C, c, kStrip);
  if (c == c1) return;
  // The last, narrower strip: copied into a full one, of which only its channels are merged.
  thread_local std::vector<float> tail;
  tail.assign(size_t(rows * kStrip), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    std::copy(x + r * C + c, x + r * C + c1, &tail[size_t(r * kStrip)]);
  add_strip(tail.data(), kStrip, c, c1 - c);
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
