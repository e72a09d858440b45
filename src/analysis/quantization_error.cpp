#include "analysis/quantization_error.h"

#include <cmath>

#include "core/error.h"

namespace gb {
namespace {

// The f16 scale of every block of a Q8_0 or Q4_0 tensor.
template <typename Block>
void for_each_scale(const io::TensorRef& t, auto&& fn) {
  const auto* blocks = static_cast<const Block*>(t.data);
  const int64_t n = t.numel() / kQuantBlock;
  for (int64_t b = 0; b < n; ++b) fn(f16_to_f32(blocks[b].d));
}

}  // namespace

QuantizationNoise estimate_quantization_noise(const io::TensorRef& t, double signal_sum_squares) {
  if (!is_quantized(t.dtype))
    fail("tensor ", t.display_name(), ": ", t.dtype_label, " is not a quantized type");
  QuantizationNoise q;
  double sum_d2 = 0;
  auto add = [&](float d) {
    if (!std::isfinite(d)) return;
    q.blocks += 1;
    sum_d2 += double(d) * double(d);
    q.step_max = std::max(q.step_max, double(std::fabs(d)));
  };
  if (t.dtype == DType::Q8_0)
    for_each_scale<BlockQ8_0>(t, add);
  else
    for_each_scale<BlockQ4_0>(t, add);
  if (q.blocks == 0) return q;
  q.step_rms = std::sqrt(sum_d2 / double(q.blocks));
  q.noise_rms = q.step_rms / std::sqrt(12.0);
  const double signal_rms = std::sqrt(signal_sum_squares / double(q.blocks * kQuantBlock));
  q.rel_error = signal_rms > 0 ? q.noise_rms / signal_rms : NAN;
  q.sqnr_db = -20 * std::log10(q.rel_error);
  return q;
}

ReferenceError reference_error(std::span<const float> values, std::span<const float> reference) {
  if (values.size() != reference.size())
    fail("reference has ", reference.size(), " elements, the tensor ", values.size());
  double diff2 = 0, max_abs = 0, x2 = 0, r2 = 0, xr = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double x = values[i], r = reference[i], d = x - r;
    diff2 += d * d;
    max_abs = std::max(max_abs, std::fabs(d));
    if (std::isnan(d)) max_abs = NAN;
    x2 += x * x;
    r2 += r * r;
    xr += x * r;
  }
  ReferenceError e;
  e.rms_error = values.empty() ? 0 : std::sqrt(diff2 / double(values.size()));
  e.max_abs_error = max_abs;
  e.rel_error = r2 > 0 ? std::sqrt(diff2 / r2) : NAN;
  e.sqnr_db = -20 * std::log10(e.rel_error);
  e.cosine = x2 > 0 && r2 > 0 ? xr / std::sqrt(x2 * r2) : NAN;
  return e;
}

}  // namespace gb
