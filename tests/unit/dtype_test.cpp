#include "core/dtype.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

namespace gb {
namespace {

TEST(Half, ExactValuesRoundTrip) {
  // Every finite half converts to f32 and back to the same bits.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const uint16_t bits = uint16_t(h);
    const float f = f16_to_f32(bits);
    if (std::isnan(f)) continue;
    EXPECT_EQ(f32_to_f16(f), bits) << "half bits " << h;
  }
}

TEST(Half, KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);                      // rounds to infinity
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // tie to even
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_TRUE(std::isnan(f16_to_f32(f32_to_f16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(Half, RoundsToNearest) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-70000.0f, 70000.0f);
  for (int i = 0; i < 100000; ++i) {
    const float x = dist(rng) * (i % 2 ? 1e-6f : 1.0f);
    const uint16_t h = f32_to_f16(x);
    const float y = f16_to_f32(h);
    if (std::isinf(y)) {
      EXPECT_GE(std::fabs(x), 65504.0f);
      continue;
    }
    // No neighbouring half is closer.
    const float up = f16_to_f32(uint16_t(h + 1)), down = f16_to_f32(uint16_t(h - 1));
    if (!std::isnan(up)) {
      EXPECT_LE(std::fabs(y - x), std::fabs(up - x));
    }
    if (!std::isnan(down) && (h & 0x7fff) != 0) {
      EXPECT_LE(std::fabs(y - x), std::fabs(down - x));
    }
  }
}

TEST(BFloat16, RoundTripAndRounding) {
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.5f)), 1.5f);
  EXPECT_EQ(f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie to even
  EXPECT_EQ(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
}

TEST(Q8_0, CraftedBlockDequantises) {
  BlockQ8_0 b;
  b.d = f32_to_f16(0.5f);
  for (int j = 0; j < 32; ++j) b.qs[j] = int8_t(j - 16);
  float out[32];
  dequantize_row(DType::Q8_0, &b, out, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(out[j], 0.5f * float(j - 16));
}

TEST(Q4_0, CraftedBlockDequantises) {
  BlockQ4_0 b;
  b.d = f32_to_f16(0.25f);
  for (int j = 0; j < 16; ++j) b.qs[j] = uint8_t(j | ((15 - j) << 4));
  float out[32];
  dequantize_row(DType::Q4_0, &b, out, 32);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], 0.25f * float(j - 8));
    EXPECT_EQ(out[j + 16], 0.25f * float(15 - j - 8));
  }
}

TEST(Q8_0, QuantizeMatchesDefinition) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = std::sin(float(j)) * 3.0f;
  BlockQ8_0 b;
  quantize_row(DType::Q8_0, x, &b, 32);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  EXPECT_EQ(b.d, f32_to_f16(amax / 127.0f));
  for (int j = 0; j < 32; ++j) EXPECT_EQ(b.qs[j], int8_t(std::lround(x[j] * 127.0f / amax)));
  float back[32];
  dequantize_row(DType::Q8_0, &b, back, 32);
  for (int j = 0; j < 32; ++j) EXPECT_NEAR(back[j], x[j], amax / 127.0f);
}

TEST(Q4_0, QuantizeMatchesDefinition) {
  float x[32];
  for (int j = 0; j < 32; ++j) x[j] = std::cos(float(j) * 0.7f) * (j == 5 ? -4.0f : 1.0f);
  BlockQ4_0 b;
  quantize_row(DType::Q4_0, x, &b, 32);
  const float d = -4.0f * std::cos(5 * 0.7f) / -8.0f;  // the signed max magnitude is x[5]
  EXPECT_EQ(b.d, f32_to_f16(d));
  float back[32];
  dequantize_row(DType::Q4_0, &b, back, 32);
  for (int j = 0; j < 32; ++j) EXPECT_NEAR(back[j], x[j], std::fabs(d) * 0.5f + 1e-3f) << j;
}

}  // namespace
}  // namespace gb
