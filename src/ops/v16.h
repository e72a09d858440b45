// Sixteen floats as one value (GCC's vector extension), for loops the compiler would otherwise
// leave scalar: at -O2 GCC vectorises a loop only when it needs neither a remainder loop nor a
// run-time check that its arrays do not overlap. Each target clone of a function using V16 lowers
// it to its own registers: one zmm (AVX-512), two ymm (AVX2) or four xmm.
#pragma once

#include <cstring>

namespace gb::ops {

using V16 = float __attribute__((vector_size(64), aligned(4)));

// Always inlined, so no V16 ever crosses a call: GCC's -Wpsabi note (that returning one changes
// the calling convention between targets) does not apply; gb_ops builds with -Wno-psabi.
[[gnu::always_inline]] inline V16 load16(const float* p) {
  V16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

[[gnu::always_inline]] inline void store16(float* p, V16 v) {
  std::memcpy(p, &v, sizeof(v));
}

}  // namespace gb::ops
