#include "model/kv_cache.h"

#include "core/error.h"

namespace gb {

KvCache::KvCache(int n_layers, int batch, int64_t max_pos, int width)
    : batch_(batch), width_(width), max_pos_(max_pos) {
  const double bytes = 2.0 * n_layers * batch * double(max_pos) * width * sizeof(float);
  if (bytes > double(uint64_t(1) << 40))
    fail("KV cache of ", bytes / (1 << 30), " GiB is too large");
  keys_.resize(size_t(n_layers) * size_t(batch) * size_t(max_pos) * size_t(width));
  values_.resize(keys_.size());
}

void KvCache::truncate(int64_t n) {
  if (n < 0 || n > n_pos_) fail("cannot truncate KV cache of ", n_pos_, " positions to ", n);
  n_pos_ = n;
}

}  // namespace gb
