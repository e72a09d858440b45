// Sixteen floats as one value (GCC's vector extension), for loops the compiler would otherwise
// leave scalar: at -O2 GCC vectorises a loop only when it needs neither a remainder loop nor a
// run-time check that its arrays do not overlap. Each target clone of a function using V16 lowers
// it to its own registers: one zmm (AVX-512), two ymm (AVX2) or four xmm.
#pragma once

#include <cstdint>
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

// An elementwise loop body written once for both widths: f(i, lanes) reads and writes through
// lanes.load(p) and lanes.store(p, value), which move sixteen floats (V16) or one.
struct Sixteen {
  [[gnu::always_inline]] static V16 load(const float* p) { return load16(p); }
  [[gnu::always_inline]] static void store(float* p, V16 v) { store16(p, v); }
};
struct One {
  [[gnu::always_inline]] static float load(const float* p) { return *p; }
  [[gnu::always_inline]] static void store(float* p, float v) { *p = v; }
};

// f(i, Sixteen{}) for i = 0, 16, ... while sixteen fit in n, then f(i, One{}) for the rest.
// f must be always inlined (mark the lambda), so that it is compiled for the caller's target.
template <typename F>
[[gnu::always_inline]] inline void for_sixteens(int64_t n, F&& f) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) f(i, Sixteen{});
  for (; i < n; ++i) f(i, One{});
}

}  // namespace gb::ops
