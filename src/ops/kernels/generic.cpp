// Portable kernels: plain C++ for any CPU (the compiler vectorises the inner loops it can).
//
// Same arithmetic as the SIMD paths: f32 products summed in 16 lanes for float weights; for
// Q8_0/Q4_0, x quantised to Q8 blocks and int8 x int8 products summed exactly per block.
#include <cmath>
#include <cstring>
#include <vector>

#include "ops/kernels/kernels.h"

namespace gb::ops::kernels {
namespace {

constexpr int kLanes = 16;

float dot_f32(const float* a, const float* b, int64_t n) {
  float acc[kLanes] = {};
  int64_t j = 0;
  for (; j + kLanes <= n; j += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += a[j + l] * b[j + l];
  for (int l = 0; j < n; ++j, ++l) acc[l] += a[j] * b[j];
  float s = 0;
  for (float v : acc) s += v;
  return s;
}

float bits_to_f32(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// IEEE half to float without branches on the value (so loops over it vectorise).
float half_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t em = h & 0x7fffu;  // exponent and mantissa
  const float normal = bits_to_f32((em << 13) + (112u << 23));
  const float subnormal = float(em) * 0x1p-24f;
  const float special = bits_to_f32(0x7f800000u | (em & 0x3ffu) << 13);  // inf, nan
  const float mag = em < 0x400 ? subnormal : (em >= 0x7c00 ? special : normal);
  uint32_t u;
  std::memcpy(&u, &mag, 4);
  return bits_to_f32(u | sign);
}

void f32_to_f32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, size_t(n) * 4);
}

void f16_to_f32_row(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  const float* table = f16_table();
  for (int64_t j = 0; j < n; ++j) dst[j] = table[h[j]];
}

void bf16_to_f32_row(const void* src, float* dst, int64_t n) {
  const auto* h = static_cast<const uint16_t*>(src);
  for (int64_t j = 0; j < n; ++j) dst[j] = bits_to_f32(uint32_t(h[j]) << 16);
}

void q8_0_to_f32(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQuantBlock; ++i) {
    const float d = half_to_f32(b[i].d);
    for (int j = 0; j < kQuantBlock; ++j) dst[i * kQuantBlock + j] = d * float(b[i].qs[j]);
  }
}

void q4_0_to_f32(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQuantBlock; ++i) {
    const float d = half_to_f32(b[i].d);
    float* out = dst + i * kQuantBlock;
    for (int j = 0; j < kQuantBlock / 2; ++j) {
      out[j] = d * float((b[i].qs[j] & 0x0f) - 8);
      out[j + 16] = d * float((b[i].qs[j] >> 4) - 8);
    }
  }
}

// Float weights: each row converted to f32 once (into this thread's scratch), then dotted with
// every x row.
template <ToF32Fn kConvert>
void float_rows(const Product& p, int64_t r0, int64_t r1) {
  thread_local std::vector<float> row;
  row.resize(size_t(p.k));
  for (int64_t r = r0; r < r1; ++r) {
    kConvert(static_cast<const char*>(p.w) + r * p.w_row_bytes, row.data(), p.k);
    const float b = p.bias ? p.bias[r] : 0.0f;
    for (int64_t i = 0; i < p.m; ++i)
      p.y[i * p.n + r] = dot_f32(row.data(), p.x + i * p.k, p.k) + b;
  }
}

// The 32 signed weight quants of block b of a Q8_0 / Q4_0 row.
void block_quants(const BlockQ8_0& b, int8_t* q) {
  std::memcpy(q, b.qs, kQuantBlock);
}
void block_quants(const BlockQ4_0& b, int8_t* q) {
  for (int j = 0; j < kQuantBlock / 2; ++j) {
    q[j] = int8_t((b.qs[j] & 0x0f) - 8);
    q[j + 16] = int8_t((b.qs[j] >> 4) - 8);
  }
}

// Quantized weights times Q8 activations: Σ_blocks dw * dx * Σ_j wq_j xq_j.
template <typename Block>
void quant_rows(const Product& p, int64_t r0, int64_t r1) {
  const int64_t nb = p.k / kQuantBlock;
  for (int64_t r = r0; r < r1; ++r) {
    const Block* w = weight_row<Block>(p, r);
    const float bias = p.bias ? p.bias[r] : 0.0f;
    for (int64_t i = 0; i < p.m; ++i) {
      const int8_t* xq = p.xq.q + i * p.k;
      const float* xd = p.xq.d + i * nb;
      float acc = 0;
      for (int64_t b = 0; b < nb; ++b) {
        int8_t wq[kQuantBlock];
        block_quants(w[b], wq);
        int32_t sum = 0;
        for (int j = 0; j < kQuantBlock; ++j) sum += int32_t(wq[j]) * xq[b * kQuantBlock + j];
        acc += half_to_f32(w[b].d) * xd[b] * float(sum);
      }
      p.y[i * p.n + r] = acc + bias;
    }
  }
}

void quantize_q8(const float* x, int64_t n, float* d, int8_t* q, int32_t* s) {
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    float amax = 0;
    for (int j = 0; j < kQuantBlock; ++j) amax = std::fmax(amax, std::fabs(xb[j]));
    d[b] = amax / 127.0f;
    const float id = d[b] != 0 ? 1.0f / d[b] : 0.0f;
    int32_t sum = 0;
    for (int j = 0; j < kQuantBlock; ++j) {
      q[b * kQuantBlock + j] = int8_t(std::lround(xb[j] * id));
      sum += q[b * kQuantBlock + j];
    }
    s[b] = sum;
  }
}

// m > 1 goes to BLAS (with f32 x) for every dtype.
constexpr Kernels kGeneric = {
    .name = "generic",
    .by_dtype =
        {
            {.to_f32 = f32_to_f32,
             .exact = {.rows = float_rows<f32_to_f32>, .blas_min_rows = 2},
             .rounded = {}},
            {.to_f32 = f16_to_f32_row,
             .exact = {.rows = float_rows<f16_to_f32_row>, .blas_min_rows = 2},
             .rounded = {}},
            {.to_f32 = bf16_to_f32_row,
             .exact = {.rows = float_rows<bf16_to_f32_row>, .blas_min_rows = 2},
             .rounded = {}},
            {.to_f32 = q8_0_to_f32,
             .exact = {.rows = float_rows<q8_0_to_f32>, .blas_min_rows = 2},
             .rounded = {.x_format = XFormat::Q8,
                         .rows = quant_rows<BlockQ8_0>,
                         .blas_min_rows = 2}},
            {.to_f32 = q4_0_to_f32,
             .exact = {.rows = float_rows<q4_0_to_f32>, .blas_min_rows = 2},
             .rounded = {.x_format = XFormat::Q8,
                         .rows = quant_rows<BlockQ4_0>,
                         .blas_min_rows = 2}},
        },
    .quantize_q8 = quantize_q8,
};

}  // namespace

const Kernels& generic_kernels() {
  return kGeneric;
}

const float* f16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (uint32_t h = 0; h < 65536; ++h) t[h] = half_to_f32(uint16_t(h));
    return t;
  }();
  return table.data();
}

}  // namespace gb::ops::kernels
