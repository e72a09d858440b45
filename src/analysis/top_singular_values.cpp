#include "analysis/top_singular_values.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/error.h"
#include "core/thread_pool.h"
#include "ops/blas.h"

namespace gb {
namespace {

// A tall matrix in double, column by column: col(j) is [rows] contiguous.
struct Columns {
  int64_t rows = 0, cols = 0;
  std::vector<double> data;  // [cols, rows]

  Columns(int64_t r, int64_t c) : rows(r), cols(c), data(size_t(r * c)) {}
  double* col(int64_t j) { return data.data() + j * rows; }
  const double* col(int64_t j) const { return data.data() + j * rows; }
};

double dot(const double* x, const double* y, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

// Standard normal values from a fixed-seed generator (Box-Muller on mt19937_64's output, both
// fully specified, so the matrix is the same with every standard library).
std::vector<float> gaussian_matrix(int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng] { return (double(rng() >> 11) + 0.5) * 0x1.0p-53; };  // (0, 1)
  std::vector<float> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i += 2) {
    const double r = std::sqrt(-2 * std::log(uniform())), angle = 2 * M_PI * uniform();
    out[size_t(i)] = float(r * std::cos(angle));
    if (i + 1 < n) out[size_t(i + 1)] = float(r * std::sin(angle));
  }
  return out;
}

// Row-major f32 [rows, l] -> orthonormal columns (modified Gram-Schmidt, each column projected
// twice for orthogonality to working precision), back as row-major f32 [rows, l]. A column that
// is exactly dependent on the earlier ones becomes zero.
void orthonormalize(std::vector<float>& m, int64_t rows, int64_t l) {
  Columns q(rows, l);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < l; ++j) q.col(j)[r] = m[size_t(r * l + j)];
  for (int64_t j = 0; j < l; ++j) {
    double* v = q.col(j);
    for (int pass = 0; pass < 2; ++pass) {
      for (int64_t i = 0; i < j; ++i) {
        const double* u = q.col(i);
        const double c = dot(u, v, rows);
        for (int64_t r = 0; r < rows; ++r) v[r] -= c * u[r];
      }
    }
    const double norm = std::sqrt(dot(v, v, rows));
    const double scale = norm > 1e-300 ? 1 / norm : 0;
    for (int64_t r = 0; r < rows; ++r) v[r] *= scale;
  }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < l; ++j) m[size_t(r * l + j)] = float(q.col(j)[r]);
}

// Singular values of a tall f32 matrix [rows, l] (row-major) by one-sided Jacobi: rotate pairs
// of columns until all are orthogonal; the column norms are then the singular values.
std::vector<double> jacobi_singular_values(const std::vector<float>& m, int64_t rows, int64_t l) {
  Columns z(rows, l);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < l; ++j) z.col(j)[r] = m[size_t(r * l + j)];
  constexpr double kTolerance = 1e-12;  // |cos| between columns counted as orthogonal
  for (int sweep = 0; sweep < 60; ++sweep) {
    bool rotated = false;
    for (int64_t p = 0; p < l; ++p) {
      for (int64_t q = p + 1; q < l; ++q) {
        double* zp = z.col(p);
        double* zq = z.col(q);
        const double alpha = dot(zp, zp, rows), beta = dot(zq, zq, rows), gamma = dot(zp, zq, rows);
        if (std::fabs(gamma) <= kTolerance * std::sqrt(alpha * beta)) continue;
        rotated = true;
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = std::copysign(1.0, zeta) / (std::fabs(zeta) + std::hypot(1.0, zeta));
        const double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (int64_t r = 0; r < rows; ++r) {
          const double x = zp[r], y = zq[r];
          zp[r] = c * x - s * y;
          zq[r] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  std::vector<double> sigma(static_cast<size_t>(l));
  for (int64_t j = 0; j < l; ++j) sigma[size_t(j)] = std::sqrt(dot(z.col(j), z.col(j), rows));
  std::sort(sigma.begin(), sigma.end(), std::greater<>());
  return sigma;
}

// Calls part(i0, i1) on ranges covering [0, n): split over the pool when there is one.
template <typename Part>
void split(ThreadPool* pool, int64_t n, Part&& part) {
  if (pool)
    pool->parallel_for(n, part, 16);
  else
    part(0, n);
}

// y [rows, l] = A [rows, cols] @ x [cols, l], the rows of y split over the pool.
void times(std::span<const float> a, int64_t rows, int64_t cols, const std::vector<float>& x,
           int64_t l, std::vector<float>& y, ThreadPool* pool) {
  y.resize(size_t(rows * l));
  split(pool, rows, [&](int64_t r0, int64_t r1) {
    blas::sgemm(false, false, int(r1 - r0), int(l), int(cols), 1.0f, a.data() + r0 * cols,
                int(cols), x.data(), int(l), 0.0f, y.data() + r0 * l, int(l));
  });
}

// y [cols, l] = Aᵀ @ x [rows, l], the rows of y (columns of A) split over the pool.
void transpose_times(std::span<const float> a, int64_t rows, int64_t cols,
                     const std::vector<float>& x, int64_t l, std::vector<float>& y,
                     ThreadPool* pool) {
  y.resize(size_t(cols * l));
  split(pool, cols, [&](int64_t c0, int64_t c1) {
    blas::sgemm(true, false, int(c1 - c0), int(l), int(rows), 1.0f, a.data() + c0, int(cols),
                x.data(), int(l), 0.0f, y.data() + c0 * l, int(l));
  });
}

}  // namespace

std::vector<double> top_singular_values(std::span<const float> a, int64_t rows, int64_t cols,
                                        const SpectrumOptions& options, ThreadPool* pool) {
  if (rows <= 0 || cols <= 0 || int64_t(a.size()) / rows != cols ||
      int64_t(a.size()) != rows * cols)
    fail("singular values: ", a.size(), " values do not fill [", rows, ", ", cols, "]");
  if (rows > INT32_MAX || cols > INT32_MAX)
    fail("singular values: [", rows, ", ", cols, "] is too large for BLAS");
  if (options.values < 0 || options.oversampling < 0 || options.iterations < 0)
    fail("singular values: values, oversampling and iterations must not be negative");
  const int64_t k = std::min<int64_t>({options.values, rows, cols});
  if (k == 0) return {};
  const int64_t l = std::min<int64_t>({k + options.oversampling, rows, cols});

  std::vector<float> omega = gaussian_matrix(cols * l, options.seed);  // [cols, l]
  std::vector<float> q, z;                                             // [rows, l], [cols, l]
  times(a, rows, cols, omega, l, q, pool);
  orthonormalize(q, rows, l);
  for (int i = 0; i < options.iterations; ++i) {
    transpose_times(a, rows, cols, q, l, z, pool);
    orthonormalize(z, cols, l);
    times(a, rows, cols, z, l, q, pool);
    orthonormalize(q, rows, l);
  }
  transpose_times(a, rows, cols, q, l, z, pool);  // Aᵀ Q = (Qᵀ A)ᵀ
  std::vector<double> sigma = jacobi_singular_values(z, cols, l);
  sigma.resize(size_t(k));
  return sigma;
}

}  // namespace gb
