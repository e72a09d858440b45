#include "export/histogram.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

namespace gb {
namespace {

constexpr double kFirstEdge = 1e-12;  // the smallest positive edge
constexpr double kGrowth = 1.1;       // each positive edge is the previous one times this
constexpr double kEdgeLimit = 1e20;   // positive edges stay below this

std::vector<double> build_edges() {
  std::vector<double> positive;
  for (double v = kFirstEdge; v < kEdgeLimit; v *= kGrowth) positive.push_back(v);
  std::vector<double> edges;
  edges.reserve(2 * positive.size() + 3);
  edges.push_back(-DBL_MAX);
  for (auto it = positive.rbegin(); it != positive.rend(); ++it) edges.push_back(-*it);
  edges.push_back(0.0);
  edges.insert(edges.end(), positive.begin(), positive.end());
  edges.push_back(DBL_MAX);
  return edges;
}

// Index of the bucket [edges[i], edges[i+1]) holding x (finite); the top bucket is closed.
// The logarithm of |x| gives the bucket to within one or two (the edges were made by repeated
// multiplication, not by powers); the exact edges then decide.
size_t bucket_of(const std::vector<double>& edges, double x) {
  const ptrdiff_t last = ptrdiff_t(edges.size()) - 2;  // the top bucket
  const ptrdiff_t zero = ptrdiff_t(edges.size()) / 2;  // edges[zero] == 0
  const double magnitude = std::fabs(x);
  const double steps =
      magnitude < kFirstEdge
          ? -1.0
          : std::min(std::floor(std::log(magnitude / kFirstEdge) / std::log(kGrowth)),
                     double(zero));
  ptrdiff_t g = x >= 0 ? zero + 1 + ptrdiff_t(steps) : zero - 2 - ptrdiff_t(steps);
  g = std::clamp<ptrdiff_t>(g, 0, last);
  while (g > 0 && edges[size_t(g)] > x) --g;
  while (g < last && edges[size_t(g) + 1] <= x) ++g;
  return size_t(g);
}

}  // namespace

const std::vector<double>& default_bucket_edges() {
  static const std::vector<double> edges = build_edges();
  return edges;
}

Histogram make_histogram(std::span<const float> values) {
  const std::vector<double>& edges = default_bucket_edges();
  std::vector<int64_t> counts(edges.size() - 1, 0);  // [n_buckets]
  Histogram h;
  h.min = INFINITY;
  h.max = -INFINITY;
  for (float f : values) {
    if (std::isnan(f)) {
      ++h.nan_count;
      continue;
    }
    if (std::isinf(f)) {
      ++h.inf_count;
      continue;
    }
    double x = f;
    h.min = std::min(h.min, x);
    h.max = std::max(h.max, x);
    h.num += 1;
    h.sum += x;
    h.sum_squares += x * x;
    ++counts[bucket_of(edges, x)];
  }
  if (h.empty()) {
    h.min = h.max = 0;
    return h;
  }
  size_t first = bucket_of(edges, h.min);
  size_t last = bucket_of(edges, h.max);
  h.bucket_limit.push_back(edges[first]);  // the empty bucket that marks the left edge
  h.bucket.push_back(0);
  for (size_t b = first; b <= last; ++b) {
    h.bucket_limit.push_back(edges[b + 1]);
    h.bucket.push_back(double(counts[b]));
  }
  return h;
}

}  // namespace gb
