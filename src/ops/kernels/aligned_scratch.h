// A thread's scratch buffer for a kernel: 64-byte aligned (whole cache lines, so that 512-bit
// loads from it never straddle two), grown as needed, never shrunk, freed with its owner
// (declare it thread_local). Internal linkage, as kernels.h asks of everything in the kernel files:
// each file gets its own copy, compiled with its own flags.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <new>

namespace gb::ops::kernels {
namespace {  // NOLINT(google-build-namespaces, cert-dcl59-cpp): see above

template <class T>
class AlignedScratch {
 public:
  AlignedScratch() = default;
  AlignedScratch(const AlignedScratch&) = delete;
  AlignedScratch& operator=(const AlignedScratch&) = delete;
  ~AlignedScratch() { std::free(data_); }

  // At least n elements (their contents undefined).
  T* get(int64_t n) {
    if (n > size_) {
      std::free(data_);
      const size_t bytes = (size_t(n) * sizeof(T) + 63) / 64 * 64;  // aligned_alloc wants whole
      data_ = static_cast<T*>(std::aligned_alloc(64, bytes));
      size_ = data_ ? n : 0;
      if (!data_) throw std::bad_alloc();
    }
    return data_;
  }

 private:
  T* data_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace
}  // namespace gb::ops::kernels
