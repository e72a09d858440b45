// How much quantization changed a tensor: estimated from the file alone, or measured against the
// unquantized weights when the user has them.
//
// Estimate (Q8_0 and Q4_0 tensors; needs nothing but the file). The original values are gone,
// so the error itself cannot be computed, but its size can: each block b stores a scale d_b,
// its values are multiples of d_b, and the quantizer rounded every original value to the nearest
// multiple (Q8_0: q = round(x / d) with d = absmax / 127; Q4_0: q = round(x / d) + 8 clipped to
// [0, 15] with d = -max / 8). The rounding error of an element is at most step/2 with step =
// |d_b| (Q4_0's clipped top code: at most one step), and under the usual uniform rounding-noise
// model its mean square is step² / 12. So over the tensor's N = 32 B elements
//   noise_rms  = sqrt( sum_b 32 d_b² / 12 / N )            estimated RMS of x̂ - x
//   rel_error  = noise_rms / rms(x̂)                       estimated ‖x̂ - x‖ / ‖x‖
//   sqnr_db    = 20 log10( rms(x̂) / noise_rms )            signal-to-quantization-noise ratio
// with x̂ the dequantised values. (Re-quantizing x̂ with its own block scales gives back the
// stored codes exactly, so a "re-quantization residual" is always zero and says nothing.)
// The model holds when a block's values spread over many steps (Q8_0 nearly always, Q4_0 on
// typical weights). It slightly overstates the error of ggml's reference quantizers, which store
// the block's largest value exactly (31 of 32 values carry noise: about 1.6% high), and of
// values much smaller than one step (they round to 0 with an error |x| < step / 2); Q4_0's
// clipped top code adds a little error it does not count. Against the unquantized weights it
// came within 2% of the measured error on every tensor tested (tests/reference/test_weights.py).
//
// Measured (any dtype, with the unquantized reference tensor r of the same shape):
//   rms_error = sqrt(mean (x̂ - r)²), max_abs_error = max |x̂ - r|,
//   rel_error = ‖x̂ - r‖ / ‖r‖, sqnr_db = -20 log10(rel_error), cosine = <x̂, r> / (‖x̂‖ ‖r‖).
// Sums in double.
#pragma once

#include <cstdint>
#include <span>

#include "io/tensor_table.h"

namespace gb {

struct QuantizationNoise {
  int64_t blocks = 0;
  double step_rms = 0;   // sqrt(mean over blocks of d_b²)
  double step_max = 0;   // max over blocks of |d_b|
  double noise_rms = 0;  // step_rms / sqrt(12)
  double rel_error = 0;  // noise_rms / rms(x̂); NaN for an all-zero tensor
  double sqnr_db = 0;    // -20 log10(rel_error)
};

// t: a Q8_0 or Q4_0 tensor; signal_sum_squares: the sum of its dequantised values squared.
// Blocks whose scale is not finite are left out of the step statistics.
QuantizationNoise estimate_quantization_noise(const io::TensorRef& t, double signal_sum_squares);

struct ReferenceError {
  double rms_error = 0;
  double max_abs_error = 0;
  double rel_error = 0;  // NaN when the reference is all zeros
  double sqnr_db = 0;
  double cosine = 0;
};

// values and reference: the same number of elements (throws gb::Error otherwise).
ReferenceError reference_error(std::span<const float> values, std::span<const float> reference);

}  // namespace gb
