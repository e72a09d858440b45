// Linear-layer products with weights in any dtype: y[m, n] = x[m, k] @ W[n, k]ᵀ.
//
// Activations are f32; weights stay in their file dtype (F32, F16, BF16, Q8_0, Q4_0) and are
// converted inside the kernels, block by block. Accumulation is f32. For Q8_0/Q4_0 weights the
// rows of x are first quantised to 8-bit blocks (as llama.cpp does) and the products are integer
// dot products per block, scaled by the two block scales; on CPUs with AVX512_BF16, x is rounded
// to bf16 for BF16 weights when m > 1. F32 products with many rows (m >= 128 or 256, where it
// measured faster) go to BLAS sgemm.
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
// the measured thresholds in matmul.cpp; Kernels: the tiled SIMD kernels; Blas: sgemm (via f32
// panels of W for dtypes other than F32). m = 1 always uses the kernels.
enum class GemmPath : uint8_t { Auto, Kernels, Blas };
void set_gemm_path(GemmPath path);

}  // namespace gb::ops
