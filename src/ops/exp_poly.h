// exp for vectorised loops: a few multiply-adds, no library call, so a loop over it runs in the
// vector registers of whatever target the loop is compiled for.
#pragma once

#include <bit>
#include <cstdint>

namespace gb::ops {

// exp(x) = 2^n · e^r with n = round(x·log2 e) and |r| ≤ ln2/2; e^r by a degree-6 Taylor polynomial
// (its remainder r⁷/7! < 2e-7 relative). Arguments below −87 give 0 (2^n would leave the normal
// range), above 88 are clamped (softmax arguments are ≤ 0 anyway).
inline float exp_poly(float x) {
  constexpr float kLog2e = 1.44269504f, kLn2Hi = 0.693145752f, kLn2Lo = 1.42860677e-6f;
  const float xc = x > 88.0f ? 88.0f : (x < -87.0f ? -87.0f : x);
  // rint, not floor(t + 0.5): GCC keeps floorf a library call (so the loop scalar) unless
  // -fno-trapping-math; rint becomes one vector rounding instruction.
  const float n = __builtin_rintf(xc * kLog2e);
  const float r = (xc - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 720;
  p = p * r + 1.0f / 120;
  p = p * r + 1.0f / 24;
  p = p * r + 1.0f / 6;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const float two_n = std::bit_cast<float>((int32_t(n) + 127) << 23);
  return x < -87.0f ? 0.0f : p * two_n;
}

}  // namespace gb::ops
