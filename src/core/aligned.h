// Buffers that start on a 64-byte cache line. The AVX-512 kernels read rows of activations 64
// bytes at a time; from a buffer that malloc aligned to 16 bytes every such load straddles two
// lines (f32 products, n 3072 k 768 m 128, one thread: 136-140 GFLOP/s with x 16 bytes off a
// line, 150-156 on one).
#pragma once

#include <cstddef>
#include <new>
#include <vector>

namespace gb {

template <class T>
struct LineAligned {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};

  LineAligned() = default;
  template <class U>
  explicit LineAligned(const LineAligned<U>&) {}

  T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }

  template <class U>
  bool operator==(const LineAligned<U>&) const {
    return true;
  }
};

using AlignedFloats = std::vector<float, LineAligned<float>>;

}  // namespace gb
