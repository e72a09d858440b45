// Keys and values of the positions seen so far, per layer and batch row, so that decoding a new
// token attends to the past without recomputing it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace gb {

class KvCache {
 public:
  KvCache() = default;
  // width = n_kv_heads · d_head.
  KvCache(int n_layers, int batch, int64_t max_pos, int width);

  int batch() const { return batch_; }
  int64_t max_pos() const { return max_pos_; }
  int64_t n_pos() const { return n_pos_; }  // positions filled
  int width() const { return width_; }
  // [max_pos, width] for one layer and batch row.
  float* k(int layer, int b) { return keys_.data() + offset(layer, b); }
  float* v(int layer, int b) { return values_.data() + offset(layer, b); }
  void advance(int64_t n) { n_pos_ += n; }
  // Forgets positions from n on (n ≤ n_pos): the next forward continues at position n.
  void truncate(int64_t n);

 private:
  size_t offset(int layer, int b) const {
    return (size_t(layer) * size_t(batch_) + size_t(b)) * size_t(max_pos_) * size_t(width_);
  }
  int batch_ = 0, width_ = 0;
  int64_t max_pos_ = 0, n_pos_ = 0;
  std::vector<float> keys_, values_;  // [n_layers, batch, max_pos, width]
};

}  // namespace gb
