#include "ops/matmul.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <vector>

#include "core/error.h"
#include "ops/blas.h"
#include "ops/kernels/kernels.h"

namespace gb::ops {
namespace {

using kernels::Kernels;
using kernels::Product;
using kernels::XFormat;

// Threads split the rows of W (columns of y) in multiples of 16, so that in each row of y no two
// threads write the same 64-byte cache line.
constexpr int64_t kRowGrain = 16;

// Rows of W converted per sgemm call in the panel path: [kPanelRows, k] f32 per thread.
constexpr int64_t kPanelRows = 128;

// ---- instruction-set selection ------------------------------------------------------------

bool cpu_has(Isa isa) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  switch (isa) {
    case Isa::Generic:
      return true;
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
             cpu_has(Isa::Avx2);
  }
  return false;
#else
  return isa == Isa::Generic;
#endif
}

const Kernels& table_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::Avx512) {
    return __builtin_cpu_supports("avx512bf16") ? kernels::avx512_bf16_kernels()
                                                : kernels::avx512_kernels();
  }
  if (isa == Isa::Avx2) return kernels::avx2_kernels();
#endif
  return kernels::generic_kernels();
}

Isa default_isa() {
  if (const char* env = std::getenv("GLASSBOX_ISA"); env && *env) return isa_from_setting(env);
  for (Isa isa : {Isa::Avx512, Isa::Avx2}) {
    if (isa_supported(isa)) return isa;
  }
  return Isa::Generic;
}

std::atomic<Isa>& current_isa() {
  static std::atomic<Isa> isa{default_isa()};
  return isa;
}

std::atomic<GemmPath> gemm_path{GemmPath::Auto};
std::atomic<bool> quantize_activations{MatmulOptions{}.quantize_activations};
std::atomic<bool> bf16_activations{MatmulOptions{}.bf16_activations};

// The kernel for dtype t and m rows of x: `rounded` where the options allow it.
const kernels::Kernel& choose(const kernels::DTypeKernels& k, DType t, int64_t m) {
  const bool round = is_quantized(t) ? quantize_activations.load(std::memory_order_relaxed)
                                     : t == DType::BF16 && m > 1 && bf16_activations.load();
  return round && k.rounded.rows ? k.rounded : k.exact;
}

bool use_blas(const kernels::Kernel& kernel, int64_t m) {
  switch (gemm_path.load(std::memory_order_relaxed)) {
    case GemmPath::Kernels:
      return false;
    case GemmPath::Blas:
      return m > 1;
    case GemmPath::Auto:
      break;
  }
  return m > 1 && m >= kernel.blas_min_rows;
}

const Kernels& active_kernels() {
  return table_for(current_isa().load(std::memory_order_relaxed));
}

// ---- activations --------------------------------------------------------------------------

// x in the form the kernels read, in the calling thread's scratch (grown, never shrunk).
struct XScratch {
  std::vector<float> d;       // [m, k/32]
  std::vector<int8_t> q;      // [m, k]
  std::vector<int32_t> s;     // [m, k/32]
  std::vector<uint16_t> b16;  // [m, k]
};

// v holds at least n elements. Never shrunk: a vector shrunk by resize and grown again
// zero-fills the regrown part, and the operands alternate between widths (768, 2048, ...).
template <typename T>
T* at_least(std::vector<T>& v, int64_t n) {
  if (v.size() < size_t(n)) v.resize(size_t(n));
  return v.data();
}

void prepare_x(const Kernels& kt, XFormat format, const float* x, int64_t m, int64_t k,
               ThreadPool& pool, Product& p) {
  thread_local XScratch scratch;
  const int64_t nb = k / kQuantBlock;
  if (format == XFormat::Q8) {
    float* d = at_least(scratch.d, m * nb);
    int8_t* q = at_least(scratch.q, m * k);
    int32_t* s = at_least(scratch.s, m * nb);
    pool.parallel_for(m, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        kt.quantize_q8(x + i * k, k, d + i * nb, q + i * k, s + i * nb);
    });
    p.xq = {.d = d, .q = q, .s = s};
  } else if (format == XFormat::BF16) {
    uint16_t* xb = at_least(scratch.b16, m * k);
    kt.to_bf16(x, m * k, xb);
    p.xb = xb;
  }
}

// ---- BLAS ---------------------------------------------------------------------------------

// y[:, r0:r1] = x @ W[r0:r1]ᵀ (+ bias) with single-threaded sgemm (the pool splits the rows).
// wf: [r1 - r0, k] f32 rows.
void sgemm_rows(const float* x, int64_t m, int64_t k, const float* wf, const float* bias, float* y,
                int64_t n, int64_t r0, int64_t r1) {
  if (bias) {
    for (int64_t i = 0; i < m; ++i) std::copy(bias + r0, bias + r1, y + i * n + r0);
  }
  blas::sgemm(false, true, int(m), int(r1 - r0), int(k), 1.0f, x, int(k), wf, int(k),
              bias ? 1.0f : 0.0f, y + r0, int(n));
}

void sgemm_product(const Kernels& kt, const float* x, int64_t m, const WeightMatrix& w,
                   const float* bias, float* y, ThreadPool& pool) {
  const int64_t n = w.rows, k = w.cols;
  if (w.dtype == DType::F32) {
    const auto* wf = static_cast<const float*>(w.data);
    pool.parallel_for(
        n, [&](int64_t r0, int64_t r1) { sgemm_rows(x, m, k, wf + r0 * k, bias, y, n, r0, r1); },
        kRowGrain);
    return;
  }
  const kernels::ToF32Fn to_f32 = kt.by_dtype[int(w.dtype)].to_f32;
  pool.parallel_for(
      n,
      [&](int64_t r0, int64_t r1) {
        thread_local std::vector<float> scratch;
        float* panel = at_least(scratch, kPanelRows * k);  // [kPanelRows, k]
        for (int64_t p0 = r0; p0 < r1; p0 += kPanelRows) {
          const int64_t p1 = std::min(r1, p0 + kPanelRows);
          for (int64_t r = p0; r < p1; ++r) to_f32(w.row(r), panel + (r - p0) * k, k);
          sgemm_rows(x, m, k, panel, bias, y, n, p0, p1);
        }
      },
      kRowGrain);
}

void check_args(const float* x, int64_t m, const WeightMatrix& w, float* y) {
  if (int(w.dtype) >= kernels::kWeightDTypes) {
    fail("matmul: weights of dtype ", dtype_name(w.dtype), " are not supported");
  }
  if (m < 0 || w.rows < 0 || w.cols < 0) fail("matmul: negative size");
  if (w.cols % dtype_block_size(w.dtype) != 0) {
    fail("matmul: ", dtype_name(w.dtype), " weights need a multiple of ", kQuantBlock,
         " columns, got ", w.cols);
  }
  if (m > 0 && w.rows > 0 && (!x || !y || (w.cols > 0 && !w.data))) fail("matmul: null pointer");
}

}  // namespace

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::Generic:
      return "generic";
    case Isa::Avx2:
      return "avx2";
    case Isa::Avx512:
      return "avx512";
  }
  return "?";
}

bool isa_from_name(std::string_view name, Isa& out) {
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    if (name == isa_name(isa)) {
      out = isa;
      return true;
    }
  }
  return false;
}

Isa isa_from_setting(std::string_view value) {
  Isa isa;
  if (!isa_from_name(value, isa)) {
    fail("GLASSBOX_ISA=", value, ": unknown instruction set (use generic, avx2 or avx512)");
  }
  if (!isa_supported(isa)) fail("GLASSBOX_ISA=", value, ": this CPU does not support it");
  return isa;
}

bool isa_supported(Isa isa) {
  return cpu_has(isa);
}

Isa active_isa() {
  return current_isa().load();
}

void set_isa(Isa isa) {
  if (!isa_supported(isa)) fail("instruction set ", isa_name(isa), ": not supported by this CPU");
  current_isa().store(isa);
}

void set_gemm_path(GemmPath path) {
  gemm_path.store(path);
}

void set_matmul_options(const MatmulOptions& options) {
  quantize_activations.store(options.quantize_activations);
  bf16_activations.store(options.bf16_activations);
}

MatmulOptions matmul_options() {
  return {.quantize_activations = quantize_activations.load(),
          .bf16_activations = bf16_activations.load()};
}

void weight_row(const WeightMatrix& w, int64_t r, float* out) {
  if (int(w.dtype) >= kernels::kWeightDTypes) return dequantize_row(w.dtype, w.row(r), out, w.cols);
  active_kernels().by_dtype[int(w.dtype)].to_f32(w.row(r), out, w.cols);
}

void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool) {
  check_args(x, m, w, y);
  if (m == 0 || w.rows == 0) return;
  if (w.cols == 0) {  // empty sums
    for (int64_t i = 0; i < m; ++i)
      for (int64_t r = 0; r < w.rows; ++r) y[i * w.rows + r] = bias ? bias[r] : 0.0f;
    return;
  }
  const Kernels& kt = active_kernels();
  const kernels::Kernel& kernel = choose(kt.by_dtype[int(w.dtype)], w.dtype, m);
  if (use_blas(kernel, m)) {
    sgemm_product(kt, x, m, w, bias, y, pool);
    return;
  }
  Product p = {.w = w.data,
               .w_row_bytes = int64_t(w.row_bytes()),
               .n = w.rows,
               .k = w.cols,
               .m = m,
               .x = x,
               .xb = nullptr,
               .xq = {},
               .bias = bias,
               .y = y};
  prepare_x(kt, kernel.x_format, x, m, w.cols, pool, p);
  pool.parallel_for(
      w.rows, [&](int64_t r0, int64_t r1) { kernel.rows(p, r0, r1); }, kRowGrain);
}

}  // namespace gb::ops
