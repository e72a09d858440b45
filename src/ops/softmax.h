// The exponentials of softmax, vectorised: a polynomial exp (relative error below 2e-7, exactly 0
// for arguments below −87, so masked −inf scores give 0) applied over rows.
#pragma once

#include <cstdint>

namespace gb::ops {

// x[i] = exp(x[i] − shift) for i < n, in place; returns Σ x[i] (after the exp).
float exp_shift_sum(float* x, int64_t n, float shift);

// Softmax of one row in place. A row of only −inf becomes all zeros.
void softmax_row(float* x, int64_t n);

}  // namespace gb::ops
