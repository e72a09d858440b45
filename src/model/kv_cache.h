// Keys and values of the positions seen so far, per layer and batch row, so that decoding a new
// token attends to the past without recomputing it. Stored in F32, or in F16 by option (half the
// memory and half the bytes read per decoded token; attention converts tiles back to f32).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/dtype.h"
#include "ops/attention.h"

namespace gb {

class KvCache {
 public:
  KvCache() = default;
  // width = n_kv_heads · d_head; dtype F32 or F16.
  KvCache(int n_layers, int batch, int64_t max_pos, int width, DType dtype = DType::F32);

  // Bytes a cache of this size takes (for checks before allocating).
  static double bytes_needed(int n_layers, int batch, int64_t max_pos, int width, DType dtype);

  int batch() const { return batch_; }
  int64_t max_pos() const { return max_pos_; }
  int64_t n_pos() const { return n_pos_; }  // positions filled
  int width() const { return width_; }
  DType dtype() const { return dtype_; }
  size_t bytes() const { return bytes_; }
  double bytes_of(int64_t positions) const {  // the bytes holding that many positions
    return max_pos_ > 0 ? double(bytes_) * double(positions) / double(max_pos_) : 0.0;
  }

  // Writes n rows of keys and values ([n, width] f32 each) at positions pos .. pos + n − 1.
  void store(int layer, int b, int64_t pos, const float* k, const float* v, int64_t n);
  // The rows [max_pos, width] of one layer and batch row.
  ops::KvRows keys(int layer, int b) const { return rows(keys_.get(), layer, b); }
  ops::KvRows values(int layer, int b) const { return rows(values_.get(), layer, b); }

  void advance(int64_t n) { n_pos_ += n; }
  // Forgets positions from n on (n ≤ n_pos): the next forward continues at position n.
  void truncate(int64_t n);

 private:
  size_t offset(int layer, int b) const {  // in elements
    return (size_t(layer) * size_t(batch_) + size_t(b)) * size_t(max_pos_) * size_t(width_);
  }
  ops::KvRows rows(const std::byte* base, int layer, int b) const {
    return {base + offset(layer, b) * dtype_bytes(dtype_, 1), dtype_, width_};
  }
  std::byte* at(std::byte* base, int layer, int b, int64_t pos) const {
    return base + (offset(layer, b) + size_t(pos) * size_t(width_)) * dtype_bytes(dtype_, 1);
  }

  int batch_ = 0, width_ = 0;
  int64_t max_pos_ = 0, n_pos_ = 0;
  DType dtype_ = DType::F32;
  size_t bytes_ = 0;                            // of keys and values together
  std::unique_ptr<std::byte[]> keys_, values_;  // [n_layers, batch, max_pos, width] of dtype
};

}  // namespace gb
