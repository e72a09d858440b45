// The kernel table behind ops::matmul: one set of functions per instruction set.
//
// Each instruction set lives in its own translation unit compiled with its own flags
// (generic.cpp: baseline; avx2.cpp: AVX2+FMA+F16C; avx512.cpp: AVX-512 F/BW/VL/VNNI, plus
// avx512_bf16.cpp for the BF16 dot-product instructions). matmul.cpp picks one table at run time.
//
// Those translation units must not share inline functions or templates with external linkage
// (the linker would keep one copy, possibly compiled for the wrong CPU): everything in them sits
// in an unnamed namespace and they use no standard-library containers or algorithms.
#pragma once

#include <cstdint>

#include "core/dtype.h"

namespace gb::ops::kernels {

// How a product kernel wants the activations x.
enum class XFormat : uint8_t {
  F32,   // as given
  Q8,    // quantised to Q8 blocks (QuantizedRows), for integer dot products with Q8_0/Q4_0
  BF16,  // rounded to bf16, for the AVX512_BF16 dot-product instruction
};

// Activation rows quantised in blocks of 32 like Q8_0, but with an f32 scale and the sum of the
// quants kept for each block: x[i, 32b + j] ≈ d[i*nb + b] * q[i*k + 32b + j].
struct QuantizedRows {
  const float* d = nullptr;    // [m, nb] scales, nb = k / 32
  const int8_t* q = nullptr;   // [m, k] quants in [-127, 127]
  const int32_t* s = nullptr;  // [m, nb] Σ_j q of each block (folds weight offsets into sums)
};

// One product: y[i, r] = Σ_j x[i, j] W[r, j] (+ bias[r]) for i in [0, m); a kernel call computes
// the rows r in [r0, r1) of W (columns of y) for every i.
struct Product {
  const void* w = nullptr;  // [n, k] in the kernel's dtype
  int64_t w_row_bytes = 0;
  int64_t n = 0, k = 0, m = 0;
  const float* x = nullptr;      // [m, k] f32 (XFormat::F32)
  const uint16_t* xb = nullptr;  // [m, k] bf16 (XFormat::BF16)
  QuantizedRows xq;              // XFormat::Q8
  const float* bias = nullptr;   // [n] or nullptr
  float* y = nullptr;            // [m, n]
};

namespace {  // NOLINT: one copy per kernel file, compiled for its instruction set (see above)

// Row r of W, as elements (or quantized blocks) of type T.
template <class T>
const T* weight_row(const Product& p, int64_t r) {
  return reinterpret_cast<const T*>(static_cast<const char*>(p.w) + r * p.w_row_bytes);
}

}  // namespace

using RowsFn = void (*)(const Product& p, int64_t r0, int64_t r1);
using ToF32Fn = void (*)(const void* src, float* dst, int64_t n);

// "Never": no BLAS for this dtype; the kernel beats sgemm on f32 panels at every m.
inline constexpr int64_t kNoBlas = INT64_MAX;

// One way to compute a product: the form of x it reads, and the function.
struct Kernel {
  XFormat x_format = XFormat::F32;
  RowsFn rows = nullptr;
  // From this many x rows on, BLAS sgemm (with f32 x, on f32 panels of W unless F32) beats
  // `rows` (measured with bench/matmul_bench.cpp).
  int64_t blas_min_rows = kNoBlas;
};

struct DTypeKernels {
  ToF32Fn to_f32 = nullptr;  // n weights (a multiple of the block size) to f32
  Kernel exact;              // x as f32
  // Faster, with x rounded to a narrower type first (rows == nullptr: none): Q8 blocks for
  // Q8_0/Q4_0, bf16 for BF16 (m > 1). matmul uses it when ops::MatmulOptions allow.
  Kernel rounded;
};

inline constexpr int kWeightDTypes = 5;  // F32, F16, BF16, Q8_0, Q4_0 (DType values 0..4)
static_assert(int(DType::F32) == 0 && int(DType::F16) == 1 && int(DType::BF16) == 2 &&
              int(DType::Q8_0) == 3 && int(DType::Q4_0) == 4);

struct Kernels {
  const char* name = "";
  DTypeKernels by_dtype[kWeightDTypes];
  // Quantises n values of x (n a multiple of 32) into QuantizedRows form: d[n/32], q[n], s[n/32].
  // Same rounding as quantize_row(Q8_0) (round half away from zero), f32 scale amax / 127.
  void (*quantize_q8)(const float* x, int64_t n, float* d, int8_t* q, int32_t* s) = nullptr;
  // Rounds n values to bf16 (nearest even); only tables that use XFormat::BF16 set it.
  void (*to_bf16)(const float* x, int64_t n, uint16_t* out) = nullptr;
};

// f32 value of every IEEE half bit pattern (built once, by baseline code): a load instead of
// a convert instruction for the per-block scales of Q8_0/Q4_0 weights.
const float* f16_table();

// Q8_0 / Q4_0 weights times x in Q8 form on panels of weight rows packed for VNNI, rows
// [r0, r1) of W (avx512_packed.cpp). The packing pays for itself from kPackedMinRows x rows on
// (bench/matmul_bench.cpp, n 3072 k 768, one thread, GFLOP/s packed vs plain tiles: m = 3 102 vs
// 122, m = 4 135 vs 125, m = 8 222 vs 128, m = 128 580 vs 125); fewer go to the plain tiles.
inline constexpr int64_t kPackedMinRows = 4;
void avx512_packed_q8_0_rows(const Product& p, int64_t r0, int64_t r1);
void avx512_packed_q4_0_rows(const Product& p, int64_t r0, int64_t r1);

// Float weights times x packed in transposed panels of 16 rows, rows [r0, r1) of W
// (avx512_x_panels.cpp), for m >= kXPanelMinRows (a panel's lanes past m are computed and
// dropped). to_f32: null for F32 weights (read in place); for F16 / BF16, the conversion of a
// row, applied to each tile's rows once per 128 x rows.
inline constexpr int64_t kXPanelMinRows = 16;
void avx512_x_panel_rows(const Product& p, int64_t r0, int64_t r1, ToF32Fn to_f32);

// The tables. The x86 ones exist only in x86-64 builds; callers check the CPU first.
const Kernels& generic_kernels();
const Kernels& avx2_kernels();
const Kernels& avx512_kernels();
// avx512_kernels() plus the AVX512_BF16 kernel for BF16 weights with m > 1 (`rounded`).
const Kernels& avx512_bf16_kernels();

}  // namespace gb::ops::kernels
