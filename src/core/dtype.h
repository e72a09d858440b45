// Element types of tensors as they are stored in model files, and the quantized block layouts.
//
// Float types hold one value per element. Quantized types pack a fixed number of elements into
// a block with a shared scale, exactly as ggml defines them:
//   Q8_0: 32 values = f16 scale d + 32 x int8 q;            x = d * q
//   Q4_0: 32 values = f16 scale d + 16 bytes of nibbles;    x = d * (nibble - 8)
//         byte j holds element j in its low nibble and element j + 16 in its high nibble.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace gb {

enum class DType : uint8_t { F32, F16, BF16, Q8_0, Q4_0, I32 };

inline constexpr int kQuantBlock = 32;  // elements per Q8_0 / Q4_0 block

struct BlockQ8_0 {
  uint16_t d;     // f16 scale
  int8_t qs[32];  // quants
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;      // f16 scale
  uint8_t qs[16];  // low nibble: element j, high nibble: element j + 16
};
static_assert(sizeof(BlockQ4_0) == 18);

std::string_view dtype_name(DType t);                     // "f32", "q8_0", ...
bool dtype_from_name(std::string_view name, DType& out);  // accepts upper or lower case
bool is_quantized(DType t);
int dtype_block_size(DType t);      // elements per block (1 for float types)
size_t dtype_block_bytes(DType t);  // bytes per block
// Bytes used by n elements; n must be a multiple of the block size (checked by callers).
size_t dtype_bytes(DType t, int64_t n);

// Scalar conversions (IEEE binary16 and bfloat16), exact round-to-nearest-even.
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
inline float bf16_to_f32(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  __builtin_memcpy(&f, &bits, 4);
  return f;
}
uint16_t f32_to_bf16(float f);

// Row conversion of n elements of type `t` at `src` into f32 (any dtype, incl. quantized).
void dequantize_row(DType t, const void* src, float* dst, int64_t n);
// Quantizes/converts n f32 values into dtype `t` at dst (n a multiple of the block size).
void quantize_row(DType t, const float* src, void* dst, int64_t n);

}  // namespace gb
