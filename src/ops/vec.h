// Small vector primitives used by the layer ops (dot, axpy, scale, add, mul, max). Compiled for
// several ISAs with GCC function multiversioning; the best one for the machine is picked at load
// time.
#pragma once

#include <cstdint>

namespace gb::ops {

float dot(const float* a, const float* b, int64_t n);     // Σ a[i]·b[i]
void axpy(float a, const float* x, float* y, int64_t n);  // y += a·x
void scale(float a, float* x, int64_t n);                 // x *= a
void add(const float* x, float* y, int64_t n);            // y += x
void mul(const float* a, float* x, int64_t n);            // x *= a  (gated MLPs, norm weights)
float max_value(const float* x, int64_t n);

}  // namespace gb::ops
