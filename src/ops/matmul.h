// Linear-layer products with weights in any dtype: y[m, n] = x[m, k] @ W[n, k]ᵀ.
//
// Activations are f32; weights stay in their file dtype (F32, F16, BF16, Q8_0, Q4_0) and are
// converted inside the kernels, block by block. Accumulation is f32. By default, for Q8_0/Q4_0
// weights the rows of x are first quantised to 8-bit blocks (as llama.cpp does) and the products
// are integer dot products per block, scaled by the two block scales; MatmulOptions turn that off
// (x stays f32) or let BF16 products round x to bf16. F32 products with many rows (m >= 128 or
// 256, where it measured faster) go to BLAS sgemm.
//
// The kernels exist for several instruction sets; the best one the CPU supports is chosen on first
// use, unless the environment variable GLASSBOX_ISA (generic | avx2 | avx512) or set_isa() says
// otherwise.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/matrix.h"
#include "core/thread_pool.h"

namespace gb::ops {

// x: [m, w.cols], y: [m, w.rows] (overwritten). bias: [w.rows] or nullptr.
void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool);

// The f32 values of row r of W: out[w.cols].
void weight_row(const WeightMatrix& w, int64_t r, float* out);

enum class Isa : uint8_t { Generic, Avx2, Avx512 };

std::string_view isa_name(Isa isa);  // "generic", "avx2", "avx512"
bool isa_from_name(std::string_view name, Isa& out);
// The instruction set a GLASSBOX_ISA value names; throws gb::Error (naming the variable) if the
// name is unknown or this CPU lacks it.
Isa isa_from_setting(std::string_view value);
// Whether this CPU (and this build) can run the kernels of `isa`.
bool isa_supported(Isa isa);
// The instruction set the kernels use now.
Isa active_isa();
// Forces the kernels of `isa` (tests, benchmarks); throws gb::Error if !isa_supported(isa).
// Not thread-safe with concurrent matmul calls.
void set_isa(Isa isa);

// Who computes products with m > 1 (tests and benchmarks force one to compare them): Auto picks by
// the thresholds measured for each kernel (ops/kernels); Kernels: the tiled SIMD kernels; Blas:
// sgemm with f32 x (on f32 panels of W for dtypes other than F32). m = 1 always uses the kernels.
enum class GemmPath : uint8_t { Auto, Kernels, Blas };
void set_gemm_path(GemmPath path);

// How the products may round the activations x for speed (process-wide, like set_isa).
struct MatmulOptions {
  // Q8_0/Q4_0 weights: quantise x to 8-bit blocks of 32 (scale = largest |x| / 127) and use
  // integer dot products, as llama.cpp does: each activation moves by up to half a step, and
  // products are up to 2x faster. false: x stays f32 and the weights are dequantised in registers,
  // so products match f32 arithmetic on the same weights to f32 rounding.
  bool quantize_activations = true;
  // BF16 weights, m > 1, CPUs with AVX512_BF16: round x to bf16 (relative error up to 2^-8) for
  // the bf16 dot-product instruction, about 2x faster. false: x stays f32.
  bool bf16_activations = false;
};
void set_matmul_options(const MatmulOptions& options);
MatmulOptions matmul_options();

}  // namespace gb::ops
