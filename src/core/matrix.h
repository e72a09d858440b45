// A read-only matrix of weights kept in its file dtype (usually memory-mapped).
//
// `rows` rows of `cols` elements, row-major. For a linear layer the rows are output features and
// the columns input features (PyTorch's nn.Linear.weight layout, and GGUF's): y = x @ Wᵀ.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/dtype.h"

namespace gb {

struct WeightMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0;  // output features (n)
  int64_t cols = 0;  // input features (k); a multiple of 32 for quantized dtypes

  size_t row_bytes() const { return dtype_bytes(dtype, cols); }
  const void* row(int64_t r) const {
    return static_cast<const char*>(data) + size_t(r) * row_bytes();
  }
  bool empty() const { return data == nullptr; }
  // Rows [r0, r0 + n) as a matrix of their own (e.g. the q, k, v parts of a fused qkv weight).
  WeightMatrix row_slice(int64_t r0, int64_t n) const { return {row(r0), dtype, n, cols}; }
};

}  // namespace gb
