#include "viewer/compact.h"

#include <algorithm>
#include <cmath>

namespace gb::viewer {
namespace {

uint8_t to_u8(float p) {
  if (!std::isfinite(p)) return 0;
  return uint8_t(std::lround(std::clamp(p, 0.0f, 1.0f) * 255.0f));
}

}  // namespace

void pack_patterns(const float* p, int64_t n_heads, int64_t n, uint8_t* out) {
  for (int64_t h = 0; h < n_heads; ++h)
    for (int64_t q = 0; q < n; ++q) {
      const float* row = p + (h * n + q) * n;  // [n] keys
      for (int64_t k = 0; k <= q; ++k) *out++ = to_u8(row[k]);
    }
}

int64_t thumbnail_side(int64_t n, int64_t max_side) {
  return std::min(n, max_side);
}

void pattern_thumbnails(const float* p, int64_t n_heads, int64_t n, int64_t t, uint8_t* out) {
  std::vector<float> cells(size_t(t * t));  // [t, t]
  for (int64_t h = 0; h < n_heads; ++h) {
    std::fill(cells.begin(), cells.end(), 0.0f);
    for (int64_t q = 0; q < n; ++q) {
      const float* row = p + (h * n + q) * n;
      float* cell_row = cells.data() + (q * t / n) * t;
      for (int64_t k = 0; k <= q; ++k) {
        float& c = cell_row[k * t / n];
        if (std::isfinite(row[k])) c = std::max(c, row[k]);
      }
    }
    for (float c : cells) *out++ = to_u8(c);
  }
}

void quantize_columns(const float* x, int64_t n, int64_t d, int8_t* q, float* scale) {
  for (int64_t j = 0; j < d; ++j) {
    float m = 0;
    for (int64_t i = 0; i < n; ++i)
      if (std::isfinite(x[i * d + j])) m = std::max(m, std::fabs(x[i * d + j]));
    scale[j] = m / 127.0f;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const float v = x[i * d + j];
      q[i * d + j] = scale[j] > 0 && std::isfinite(v) ? int8_t(std::lround(v / scale[j])) : 0;
    }
}

std::vector<NeuronPeak> top_columns(const float* x, int64_t n, int64_t d, int k) {
  std::vector<NeuronPeak> all;
  for (int64_t j = 0; j < d; ++j) {
    NeuronPeak peak{.neuron = j, .max = -INFINITY, .at = -1, .mean = 0};
    int64_t finite = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i * d + j];
      if (!std::isfinite(v)) continue;
      ++finite;
      peak.mean += v;
      if (v > peak.max) {
        peak.max = v;
        peak.at = i;
      }
    }
    if (finite == 0) continue;
    peak.mean /= double(finite);
    all.push_back(peak);
  }
  const size_t keep = std::min(all.size(), size_t(std::max(k, 0)));
  std::partial_sort(all.begin(), all.begin() + long(keep), all.end(),
                    [](const NeuronPeak& a, const NeuronPeak& b) {
                      return a.max > b.max || (a.max == b.max && a.neuron < b.neuron);
                    });
  all.resize(keep);
  return all;
}

}  // namespace gb::viewer
