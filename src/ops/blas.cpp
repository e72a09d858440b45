#include "ops/blas.h"

#include <dlfcn.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "core/error.h"

namespace gb::blas {
namespace {

// The CBLAS interface's values (cblas.h): the same in every implementation.
constexpr int kRowMajor = 101, kNoTrans = 111, kTrans = 112;

using SgemmFn = void (*)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float* a, int lda, const float* b, int ldb, float beta, float* c,
                         int ldc);
using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();

struct Library {
  SgemmFn sgemm = nullptr;
  SetThreadsFn set_threads = nullptr;
  GetThreadsFn get_threads = nullptr;
};

constexpr const char* kName = "libopenblas.so.0";

// OpenBLAS reads OPENBLAS_NUM_THREADS once, when it loads: set for that moment, then put back
// as it was, so that programs glassbox starts see the environment it was given.
void* open_without_threads() {
  if (void* loaded = dlopen(kName, RTLD_NOW | RTLD_NOLOAD)) return loaded;
  const char* old = std::getenv("OPENBLAS_NUM_THREADS");
  const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
  setenv("OPENBLAS_NUM_THREADS", "1", 1);
  void* handle = dlopen(kName, RTLD_NOW | RTLD_LOCAL);
  if (saved)
    setenv("OPENBLAS_NUM_THREADS", saved->c_str(), 1);
  else
    unsetenv("OPENBLAS_NUM_THREADS");
  return handle;
}

const Library& library() {
  static const Library lib = [] {
    void* handle = open_without_threads();
    if (!handle)
      fail("cannot load OpenBLAS (", kName, ", Debian package libopenblas0): ", dlerror());
    Library l{reinterpret_cast<SgemmFn>(dlsym(handle, "cblas_sgemm")),
              reinterpret_cast<SetThreadsFn>(dlsym(handle, "openblas_set_num_threads")),
              reinterpret_cast<GetThreadsFn>(dlsym(handle, "openblas_get_num_threads"))};
    if (!l.sgemm || !l.set_threads || !l.get_threads)
      fail(kName, ": not OpenBLAS (cblas_sgemm or openblas_set_num_threads missing)");
    if (l.get_threads() != 1) l.set_threads(1);  // loaded threaded before (the benchmarks link it)
    return l;
  }();
  return lib;
}

}  // namespace

void sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda,
           const float* b, int ldb, float beta, float* c, int ldc) {
  library().sgemm(kRowMajor, trans_a ? kTrans : kNoTrans, trans_b ? kTrans : kNoTrans, m, n, k,
                  alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace gb::blas
