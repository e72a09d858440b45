// Streaming statistics of every channel of one activation, in memory proportional to the number
// of channels, whatever the number of values.
//
// Values arrive in blocks; each block's mean and sum of squared deviations are computed in one
// pass per strip of channels, around a shift near the mean (summed in float over runs of 16 rows,
// then in double: mean, variance and mean |x| to about 1e-6, relative), and merged into the
// running ones in double with Chan et al.'s parallel update, which keeps the variance accurate
// over long streams (no E[x²] − E[x]² cancellation).
// NaN and ±Inf are counted apart and left out of every other statistic.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace gb::analysis {

class ChannelStats {
 public:
  ChannelStats() = default;
  // fire_threshold: `above` counts values greater than it.
  ChannelStats(int64_t channels, float fire_threshold);

  // x: [rows, channels], row-major.
  void add_rows(const float* x, int64_t rows);
  // The same for channels [c0, c1) only (disjoint ranges may be added from different threads;
  // ranges that start at multiples of kStrip are summed in whole strips).
  void add_rows(const float* x, int64_t rows, int64_t c0, int64_t c1);
  static constexpr int64_t kStrip = 16;  // channels summarised side by side (a vector of floats)
  // Values of one channel.
  void add_values(int64_t channel, std::span<const float> values);
  // other's values (the same number of channels) counted into these.
  void merge(const ChannelStats& other);
  // No values, in `channels` channels; the vectors keep their capacity.
  void reset(int64_t channels);

  int64_t channels() const { return int64_t(count.size()); }
  double variance(int64_t c) const;  // population variance (ddof = 0), 0 without values

  // Per channel. count: finite values; the others over those finite values.
  std::vector<int64_t> count, zeros, above, nans, infs;
  std::vector<double> mean, m2, sum_abs;
  std::vector<float> min, max, abs_max;
  static constexpr int64_t kBytesPerChannel =  // of those vectors
      5 * sizeof(int64_t) + 3 * sizeof(double) + 3 * sizeof(float);

 private:
  // Counts v into channel i's extremes and counters; false (and counted) for NaN / ±Inf.
  bool note(size_t i, float v);
  // add_rows for channels [c0, c1) of a block holding NaN or ±Inf: value by value, through note().
  void add_rows_checked(const float* x, int64_t rows, int64_t c0, int64_t c1);
  void merge(int64_t c, int64_t n, double block_mean, double block_m2);
  float fire_threshold_ = 0;
};

}  // namespace gb::analysis
