#include "ops/f16_rows.h"

#include "core/dtype.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gb::ops {
namespace {

#if defined(__x86_64__)
bool have_f16c() {
  static const bool yes = __builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx");
  return yes;
}

__attribute__((target("avx,f16c"))) int64_t to_f16_f16c(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  return i;
}

__attribute__((target("avx,f16c"))) int64_t from_f16_f16c(const uint16_t* x, float* out,
                                                          int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i,
                     _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i))));
  return i;
}
#endif

}  // namespace

void to_f16_rows(const float* x, uint16_t* out, int64_t n) {
  int64_t i = 0;
#if defined(__x86_64__)
  if (have_f16c()) i = to_f16_f16c(x, out, n);
#endif
  for (; i < n; ++i) out[i] = f32_to_f16(x[i]);
}

void from_f16_rows(const uint16_t* x, float* out, int64_t n) {
  int64_t i = 0;
#if defined(__x86_64__)
  if (have_f16c()) i = from_f16_f16c(x, out, n);
#endif
  for (; i < n; ++i) out[i] = f16_to_f32(x[i]);
}

}  // namespace gb::ops
