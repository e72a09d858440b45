#include "analysis/weight_stats.h"

#include <cmath>

#include "core/error.h"

namespace gb {

ValueStats value_stats(std::span<const float> values) {
  ValueStats s;
  s.count = int64_t(values.size());
  double sum = 0, sum_squares = 0, lo = INFINITY, hi = -INFINITY;
  int64_t zeros = 0;
  for (float f : values) {
    if (std::isnan(f)) {
      ++s.nan_count;
      continue;
    }
    if (std::isinf(f)) {
      ++s.inf_count;
      continue;
    }
    const double x = f;
    sum += x;
    sum_squares += x * x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    zeros += f == 0.0f;
  }
  s.finite = s.count - s.nan_count - s.inf_count;
  s.zero_fraction = s.count > 0 ? double(zeros) / double(s.count) : 0;
  if (s.finite == 0) return s;
  s.sum_squares = sum_squares;
  s.l2_norm = std::sqrt(sum_squares);
  s.mean = sum / double(s.finite);
  s.min = lo;
  s.max = hi;
  s.abs_max = std::max(std::fabs(lo), std::fabs(hi));
  double centred = 0;
  for (float f : values) {
    if (!std::isfinite(f)) continue;
    const double d = double(f) - s.mean;
    centred += d * d;
  }
  s.std = std::sqrt(centred / double(s.finite));
  return s;
}

bool can_read(const io::TensorRef& t) {
  return t.supported && t.data != nullptr;
}

std::vector<float> dequantize_tensor(const io::TensorRef& t) {
  if (!can_read(t))
    fail(t.file, ": tensor ", t.display_name(), ": dtype ", t.dtype_label, " is not supported");
  std::vector<float> out(size_t(t.numel()));  // [numel]
  dequantize_row(t.dtype, t.data, out.data(), t.numel());
  return out;
}

WeightStats unreadable_weight_stats(const io::TensorRef& t) {
  WeightStats s;
  s.name = t.display_name();
  s.dtype = t.dtype_label;
  s.shape = t.shape;
  s.note = cat("dtype ", t.dtype_label, " is not read by glassbox");
  return s;
}

WeightStats weight_stats(const io::TensorRef& t, std::span<const float> values,
                         const WeightStatsOptions& options) {
  if (int64_t(values.size()) != t.numel())
    fail("tensor ", t.display_name(), ": ", values.size(), " values for ", t.numel(), " elements");
  WeightStats s;
  s.name = t.display_name();
  s.dtype = t.dtype_label;
  s.shape = t.shape;
  s.computed = true;
  s.values = value_stats(values);
  if (options.histogram) s.histogram = make_histogram(values);
  if (is_quantized(t.dtype)) s.quantization = estimate_quantization_noise(t, s.values.sum_squares);
  const bool matrix = t.shape.size() == 2 && t.shape[0] > 1 && t.shape[1] > 1;
  if (matrix && options.spectrum.values > 0) {
    if (s.values.finite == s.values.count)
      s.singular_values =
          top_singular_values(values, t.shape[0], t.shape[1], options.spectrum, options.pool);
    else
      s.note = "singular values not computed: the tensor has non-finite values";
  }
  return s;
}

}  // namespace gb
