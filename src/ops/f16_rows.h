// Conversion of f32 rows to IEEE half precision and back (the F16 KV cache), with the F16C
// instructions where the processor has them.
#pragma once

#include <cstdint>

namespace gb::ops {

void to_f16_rows(const float* x, uint16_t* out, int64_t n);    // round to nearest even
void from_f16_rows(const uint16_t* x, float* out, int64_t n);  // exact

}  // namespace gb::ops
