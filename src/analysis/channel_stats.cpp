#include "analysis/channel_stats.h"

#include <cmath>
#include <limits>

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

void ChannelStats::merge(int64_t c, int64_t n, double block_mean, double block_m2) {
  const size_t i = size_t(c);
  if (n == 0) return;
  const int64_t total = count[i] + n;
  const double delta = block_mean - mean[i];
  mean[i] += delta * double(n) / double(total);
  m2[i] += block_m2 + delta * delta * double(count[i]) * double(n) / double(total);
  count[i] = total;
}

void ChannelStats::add_rows(const float* x, int64_t rows) {
  add_rows(x, rows, 0, channels());
}

void ChannelStats::add_rows(const float* x, int64_t rows, int64_t c0, int64_t c1) {
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
