// ops::matmul for every weight dtype, on every instruction set this CPU runs, against a scalar
// double-precision reference built from dequantize_row (core/dtype.cpp).
//
// Two kinds of data:
//  - exact: small dyadic values chosen so that every product and every partial sum is exactly
//    representable in f32 (and x is exactly representable in Q8 blocks and in bf16). Any
//    summation order then gives the exact result: the kernels must match the reference exactly,
//    so a wrong index, a lost tail or a wrong scale cannot hide inside a tolerance.
//  - random: Gaussian values, compared with a bound derived per output element (see tolerance()).
#include "ops/matmul.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "ops/kernels/kernels.h"

namespace gb::ops {
namespace {

constexpr double kU = 0x1p-24;  // unit roundoff of f32

std::vector<Isa> supported_isas() {
  std::vector<Isa> out;
  for (Isa isa : {Isa::Generic, Isa::Avx2, Isa::Avx512}) {
    if (isa_supported(isa)) {
      out.push_back(isa);
    } else {
      std::cout << "[ note ] " << isa_name(isa) << " kernels not tested: CPU lacks them\n";
    }
  }
  return out;
}

// Restores the automatic choices when a test ends.
struct ForcedPaths {
  ~ForcedPaths() {
    set_isa(supported_isas().back());
    set_gemm_path(GemmPath::Auto);
    set_matmul_options(MatmulOptions{});
  }
};

struct Problem {
  DType dtype;
  int64_t k, n, m;
  std::vector<uint8_t> wdata;  // [n, k] in dtype
  std::vector<double> wf;      // [n, k] dequantized weights
  std::vector<float> x;        // [m, k]
  std::vector<float> bias;     // [n]
  WeightMatrix w() const { return {.data = wdata.data(), .dtype = dtype, .rows = n, .cols = k}; }
};

enum class Data { Exact, Random };

float dyadic(std::mt19937& rng, int lo, int hi, float scale) {
  return float(std::uniform_int_distribution<int>(lo, hi)(rng)) * scale;
}

void fill_weights(Problem& p, Data data, std::mt19937& rng) {
  const size_t row_bytes = dtype_bytes(p.dtype, p.k);
  p.wdata.assign(row_bytes * size_t(p.n), 0);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> row(static_cast<size_t>(p.k));
  for (int64_t r = 0; r < p.n; ++r) {
    uint8_t* dst = p.wdata.data() + size_t(r) * row_bytes;
    if (data == Data::Exact && is_quantized(p.dtype)) {
      // scale 2^-6; Q4_0 nibbles anything; Q8_0 quants the full int8 range (-128 too, which no
      // quantizer writes but a file may hold) while k <= 64, else in [-15, 15] so that the sums
      // stay below 2^24 units of 2^-13
      const int q8_max = p.k <= 64 ? 127 : 15;
      for (int64_t b = 0; b < p.k / kQuantBlock; ++b) {
        if (p.dtype == DType::Q8_0) {
          auto* blk = reinterpret_cast<BlockQ8_0*>(dst) + b;
          blk->d = f32_to_f16(0x1p-6f);
          for (auto& q : blk->qs) q = int8_t(dyadic(rng, -q8_max - 1, q8_max, 1.0f));
        } else {
          auto* blk = reinterpret_cast<BlockQ4_0*>(dst) + b;
          blk->d = f32_to_f16(0x1p-6f);
          for (auto& q : blk->qs) q = uint8_t(dyadic(rng, 0, 255, 1.0f));
        }
      }
    } else {
      for (auto& v : row) v = data == Data::Exact ? dyadic(rng, -8, 8, 1.0f / 16) : normal(rng);
      quantize_row(p.dtype, row.data(), dst, p.k);
    }
  }
  p.wf.resize(size_t(p.n * p.k));
  for (int64_t r = 0; r < p.n; ++r) {
    dequantize_row(p.dtype, p.wdata.data() + size_t(r) * row_bytes, row.data(), p.k);
    for (int64_t j = 0; j < p.k; ++j) p.wf[size_t(r * p.k + j)] = row[size_t(j)];
  }
}

void fill_x(Problem& p, Data data, std::mt19937& rng) {
  p.x.resize(size_t(p.m * p.k));
  p.bias.resize(size_t(p.n));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  if (data == Data::Random) {
    for (auto& v : p.x) v = normal(rng);
    for (auto& v : p.bias) v = normal(rng);
    return;
  }
  for (auto& v : p.bias) v = dyadic(rng, -8, 8, 1.0f / 8);
  if (!is_quantized(p.dtype)) {
    for (auto& v : p.x) v = dyadic(rng, -8, 8, 1.0f / 8);
    return;
  }
  // Q8-exact: integers times 2^-7 with ±127 * 2^-7 somewhere in every block (so the block scale
  // amax / 127 is exactly 2^-7).
  for (size_t b = 0; b < p.x.size() / kQuantBlock; ++b) {
    float* blk = p.x.data() + b * kQuantBlock;
    for (int j = 0; j < kQuantBlock; ++j) blk[j] = dyadic(rng, -127, 127, 0x1p-7f);
    blk[rng() % kQuantBlock] = (rng() % 2 ? 127 : -127) * 0x1p-7f;
  }
}

// Bound on |kernel - exact| for one output element (bias excluded).
//  - f32 accumulation of k products (any order, FMA or not): |err| <= γ_k Σ|x_j w_j|,
//    γ_k = k u / (1 - k u) (Higham, Accuracy and Stability of Numerical Algorithms, 3.1).
//  - Q8 activations (Q8_0/Q4_0 weights): x is replaced by d_b q_j with |x_j - d_b q_j| <= d_b / 2
//    (round to nearest; d_b = amax_b / 127), plus a hair for the f32 arithmetic of x * (1 / d_b):
//    adds Σ_b (0.5 + 1e-4) d_b Σ_{j in b} |w_j|. The f32 sums then see |q| values up to that
//    much larger.
//  - bf16 activations (AVX512_BF16 path): |x_j - bf16(x_j)| <= 2^-8 |x_j| (8 significant
//    bits): adds 2^-8 Σ|x_j w_j|.
double tolerance(const Problem& p, int64_t i, int64_t r, kernels::XFormat x_format) {
  double abs_sum = 0, x_err = 0;
  const float* x = p.x.data() + i * p.k;
  const double* w = p.wf.data() + r * p.k;
  for (int64_t j = 0; j < p.k; ++j) abs_sum += std::fabs(double(x[j]) * w[j]);
  if (x_format == kernels::XFormat::Q8) {
    for (int64_t b = 0; b < p.k / kQuantBlock; ++b) {
      double amax = 0, wsum = 0;
      for (int64_t j = b * kQuantBlock; j < (b + 1) * kQuantBlock; ++j) {
        amax = std::max(amax, std::fabs(double(x[j])));
        wsum += std::fabs(w[j]);
      }
      x_err += (0.5 + 1e-4) * amax / 127 * wsum;
    }
  } else if (x_format == kernels::XFormat::BF16) {
    x_err = 0x1p-8 * abs_sum;
  }
  const double k = double(p.k) + 2;  // + the bias addition and the block-scale product
  return x_err + k * kU / (1 - k * kU) * (abs_sum + x_err);
}

// y[i, r] = Σ_j x[i, j] w[r, j] (+ bias) in double, and (when asked for) the error bound of each
// element for an activation format.
class Reference {
 public:
  Reference(const Problem& p, bool bias) : p_(p), bias_(bias), y_(size_t(p.m * p.n)) {
    for (int64_t i = 0; i < p.m; ++i) {
      for (int64_t r = 0; r < p.n; ++r) {
        double s = bias ? p.bias[size_t(r)] : 0.0;
        for (int64_t j = 0; j < p.k; ++j)
          s += double(p.x[size_t(i * p.k + j)]) * p.wf[size_t(r * p.k + j)];
        y_[size_t(i * p.n + r)] = s;
      }
    }
  }
  const std::vector<double>& y() const { return y_; }
  const std::vector<double>& tolerance(kernels::XFormat f) {
    std::vector<double>& tol = tol_[int(f)];
    if (tol.empty()) {
      tol.resize(y_.size());
      for (int64_t i = 0; i < p_.m; ++i) {
        for (int64_t r = 0; r < p_.n; ++r) {
          const size_t e = size_t(i * p_.n + r);
          tol[e] = gb::ops::tolerance(p_, i, r, f) + (bias_ ? std::fabs(y_[e]) * kU : 0);
        }
      }
    }
    return tol;
  }

 private:
  const Problem& p_;
  bool bias_;
  std::vector<double> y_;
  std::vector<double> tol_[3];  // by XFormat
};

// Which activation format matmul uses for this case (f32 if BLAS does the product).
kernels::XFormat x_format_of(Isa isa, DType t, int64_t m, GemmPath path, MatmulOptions options) {
  if (path == GemmPath::Blas && m > 1) return kernels::XFormat::F32;
  const auto& table = isa == Isa::Generic                    ? kernels::generic_kernels()
                      : isa == Isa::Avx2                     ? kernels::avx2_kernels()
                      : __builtin_cpu_supports("avx512bf16") ? kernels::avx512_bf16_kernels()
                                                             : kernels::avx512_kernels();
  const auto& k = table.by_dtype[int(t)];
  const bool round = is_quantized(t) ? options.quantize_activations
                                     : t == DType::BF16 && m > 1 && options.bf16_activations;
  return round && k.rounded.rows ? k.rounded.x_format : k.exact.x_format;
}

// The options worth testing for a dtype: the default and the one that changes its kernels.
std::vector<MatmulOptions> options_for(DType t) {
  if (is_quantized(t)) return {{.quantize_activations = true}, {.quantize_activations = false}};
  if (t == DType::BF16) return {{.bf16_activations = false}, {.bf16_activations = true}};
  return {MatmulOptions{}};
}

// Runs matmul on every supported ISA and both m > 1 paths, comparing with the reference.
// Cycles through thread counts 1/2/3, bias on/off, misaligned x/y and the alignment of W with
// `variant`.
void check_all_paths(Problem& p, Data data, int variant) {
  static const std::vector<Isa> isas = supported_isas();
  ForcedPaths restore;
  const int threads = 1 + variant % 3;
  const bool with_bias = variant % 2 == 0, misaligned = variant % 4 >= 2;
  ThreadPool pool(threads);
  // x and y one float past an aligned start when misaligned
  std::vector<float> xbuf(p.x.size() + 1), ybuf(size_t(p.m * p.n) + 1);
  float* x = xbuf.data() + (misaligned ? 1 : 0);
  float* y = ybuf.data() + (misaligned ? 1 : 0);
  std::memcpy(x, p.x.data(), p.x.size() * 4);
  // W on a 64-byte line, or 16 bytes past one (a GGUF tensor is aligned to 32 bytes only)
  const uintptr_t w_offset = variant / 4 % 2 == 0 ? 0 : 16;
  std::vector<uint8_t> wbuf(p.wdata.size() + 64 + w_offset);
  const uintptr_t line = (reinterpret_cast<uintptr_t>(wbuf.data()) + 63) / 64 * 64;
  uint8_t* w_at = wbuf.data() + (line - reinterpret_cast<uintptr_t>(wbuf.data())) + w_offset;
  std::memcpy(w_at, p.wdata.data(), p.wdata.size());
  WeightMatrix w = p.w();
  w.data = w_at;
  Reference ref(p, with_bias);
  for (const MatmulOptions& options : options_for(p.dtype)) {
    set_matmul_options(options);
    for (GemmPath path : {GemmPath::Kernels, GemmPath::Blas}) {
      if (path == GemmPath::Blas && p.m == 1) continue;  // m = 1 always takes the kernels
      set_gemm_path(path);
      for (Isa isa : isas) {
        set_isa(isa);
        const auto format = x_format_of(isa, p.dtype, p.m, path, options);
        std::fill(ybuf.begin(), ybuf.end(), std::nanf(""));
        matmul(x, p.m, w, with_bias ? p.bias.data() : nullptr, y, pool);
        int bad = 0;
        for (size_t e = 0; e < ref.y().size() && bad < 3; ++e) {
          const double err = std::fabs(double(y[e]) - ref.y()[e]);
          const double tol = data == Data::Exact ? 0.0 : ref.tolerance(format)[e];
          if (!(err <= tol)) {
            ++bad;
            ADD_FAILURE() << dtype_name(p.dtype) << " " << isa_name(isa)
                          << (path == GemmPath::Blas ? " blas" : " kernels")
                          << " x=" << (format == kernels::XFormat::F32 ? "f32" : "rounded")
                          << " k=" << p.k << " n=" << p.n << " m=" << p.m << " threads=" << threads
                          << " bias=" << with_bias << " misaligned=" << misaligned
                          << " w_offset=" << w_offset << " at i=" << e / size_t(p.n)
                          << " r=" << e % size_t(p.n) << ": got " << y[e] << ", want " << ref.y()[e]
                          << " (tolerance " << tol << ")";
          }
        }
      }
    }
  }
}

class MatmulByDtype : public testing::TestWithParam<DType> {};

void run_sizes(DType dtype, Data data, const std::vector<int64_t>& ks) {
  std::mt19937 rng(uint32_t(int(dtype) * 7919 + int(data)));
  int variant = 0;
  for (int64_t k : ks) {
    for (int64_t n : {1, 3, 17, 1000}) {
      for (int64_t m : {1, 2, 5, 33}) {
        // keep the double-precision reference affordable: the largest shapes once per dtype
        if (k > 1000 && n == 1000 && m == 33 && data == Data::Random) continue;
        Problem p{
            .dtype = dtype, .k = k, .n = n, .m = m, .wdata = {}, .wf = {}, .x = {}, .bias = {}};
        fill_weights(p, data, rng);
        fill_x(p, data, rng);
        check_all_paths(p, data, variant++);
      }
    }
  }
}

std::vector<int64_t> sizes_k(DType dtype) {
  if (is_quantized(dtype)) return {32, 64, 96, 4096 + 32};
  return {5, 32, 47, 64, 96, 4096 + 32 + 3};  // float weights: column tails too
}

TEST_P(MatmulByDtype, ExactDataMatchesExactly) {
  run_sizes(GetParam(), Data::Exact, sizes_k(GetParam()));
}

TEST_P(MatmulByDtype, RandomDataWithinDerivedBound) {
  run_sizes(GetParam(), Data::Random, sizes_k(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, MatmulByDtype,
                         testing::Values(DType::F32, DType::F16, DType::BF16, DType::Q8_0,
                                         DType::Q4_0),
                         [](const auto& info) { return std::string(dtype_name(info.param)); });

// More x rows than one chunk of packed panels (kChunk, avx512_x_panels.cpp), the last chunk and
// its last panel partial; every weight type, since the float ones share the tile code.
TEST(Matmul, ManyRowsMatchExactly) {
  std::mt19937 rng(29);
  int variant = 0;
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    Problem p{.dtype = t,
              .k = is_quantized(t) ? 64 : 47,
              .n = 19,
              .m = 150,
              .wdata = {},
              .wf = {},
              .x = {},
              .bias = {}};
    fill_weights(p, Data::Exact, rng);
    fill_x(p, Data::Exact, rng);
    check_all_paths(p, Data::Exact, variant++);
  }
}

TEST(Matmul, WeightRowMatchesDequantizeRow) {
  ForcedPaths restore;
  std::mt19937 rng(5);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0}) {
    Problem p{.dtype = t, .k = 96 + 32, .n = 3, .m = 1, .wdata = {}, .wf = {}, .x = {}, .bias = {}};
    fill_weights(p, Data::Random, rng);
    for (Isa isa : supported_isas()) {
      set_isa(isa);
      std::vector<float> row(static_cast<size_t>(p.k));
      weight_row(p.w(), 2, row.data());
      for (int64_t j = 0; j < p.k; ++j)
        ASSERT_EQ(double(row[size_t(j)]), p.wf[size_t(2 * p.k + j)]) << dtype_name(t) << " " << j;
    }
  }
}

TEST(Matmul, IsaSettingIsCheckedAndNamed) {
  for (Isa isa : supported_isas()) EXPECT_EQ(isa_from_setting(isa_name(isa)), isa);
  try {
    isa_from_setting("sse9");
    FAIL() << "no error for an unknown instruction set";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("GLASSBOX_ISA=sse9"), std::string::npos) << e.what();
  }
  for (Isa isa : {Isa::Avx2, Isa::Avx512}) {
    if (!isa_supported(isa)) {
      EXPECT_THROW(isa_from_setting(isa_name(isa)), Error);
    }
  }
}

TEST(Matmul, RejectsBadShapes) {
  ThreadPool pool(1);
  std::vector<uint8_t> w(34 * 4);
  std::vector<float> x(64), y(4);
  const WeightMatrix q{.data = w.data(), .dtype = DType::Q8_0, .rows = 2, .cols = 48};
  EXPECT_THROW(matmul(x.data(), 1, q, nullptr, y.data(), pool), Error);
  const WeightMatrix i32{.data = w.data(), .dtype = DType::I32, .rows = 2, .cols = 4};
  EXPECT_THROW(matmul(x.data(), 1, i32, nullptr, y.data(), pool), Error);
}

// The activation quantiser of each ISA against quantize_row(Q8_0): same quants, the f16 of its
// f32 scale equals the stored f16 scale, and the block sums are the sums of the quants.
TEST(QuantizeQ8, MatchesQuantizeRow) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n = 4096 + 64;
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = normal(rng) * (rng() % 8 == 0 ? 30.0f : 1.0f);
  std::fill(x.begin() + 32, x.begin() + 64, 0.0f);  // an all-zero block: scale 0, quants 0
  // a block of exact ties after scaling: amax 127 gives scale 1, so ±k.5 must round away from 0
  for (int j = 0; j < 32; ++j) x[size_t(64 + j)] = (j % 2 ? -1.0f : 1.0f) * (float(j % 20) + 0.5f);
  x[64 + 31] = 127.0f;
  std::vector<BlockQ8_0> want(static_cast<size_t>(n / kQuantBlock));
  quantize_row(DType::Q8_0, x.data(), want.data(), n);
  for (Isa isa : supported_isas()) {
    const auto& kt = isa == Isa::Generic ? kernels::generic_kernels()
                     : isa == Isa::Avx2  ? kernels::avx2_kernels()
                                         : kernels::avx512_kernels();
    std::vector<float> d(static_cast<size_t>(n / kQuantBlock));
    std::vector<int8_t> q(static_cast<size_t>(n));
    std::vector<int32_t> s(static_cast<size_t>(n / kQuantBlock));
    kt.quantize_q8(x.data(), n, d.data(), q.data(), s.data());
    for (size_t b = 0; b < want.size(); ++b) {
      ASSERT_EQ(f32_to_f16(d[b]), want[b].d) << isa_name(isa) << " block " << b;
      int32_t sum = 0;
      for (int j = 0; j < kQuantBlock; ++j) {
        ASSERT_EQ(q[b * kQuantBlock + j], want[b].qs[j])
            << isa_name(isa) << " block " << b << " " << j;
        sum += q[b * kQuantBlock + j];
      }
      ASSERT_EQ(s[b], sum) << isa_name(isa) << " block " << b;
    }
  }
}

TEST(ToBf16, MatchesScalarRounding) {
  if (!isa_supported(Isa::Avx512) || !__builtin_cpu_supports("avx512bf16")) {
    std::cout << "[ note ] AVX512_BF16 not present: bf16 activation rounding not tested\n";
    return;
  }
  std::mt19937 rng(9);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(1000 + 7);
  for (auto& v : x) v = normal(rng);
  std::vector<uint16_t> out(x.size() + 1, 0xdead);
  kernels::avx512_bf16_kernels().to_bf16(x.data(), int64_t(x.size()), out.data());
  for (size_t j = 0; j < x.size(); ++j) ASSERT_EQ(out[j], f32_to_bf16(x[j])) << j;
  EXPECT_EQ(out.back(), 0xdead);  // the masked tail wrote nothing past the end
}

}  // namespace
}  // namespace gb::ops
