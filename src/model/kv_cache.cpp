#include "model/kv_cache.h"

#include <cstring>

#include "core/error.h"
#include "ops/f16_rows.h"

namespace gb {

double KvCache::bytes_needed(int n_layers, int batch, int64_t max_pos, int width, DType dtype) {
  return 2.0 * n_layers * batch * double(max_pos) * width * double(dtype_bytes(dtype, 1));
}

KvCache::KvCache(int n_layers, int batch, int64_t max_pos, int width, DType dtype)
    : batch_(batch), width_(width), max_pos_(max_pos), dtype_(dtype) {
  if (dtype != DType::F32 && dtype != DType::F16)
    fail("KV cache type ", dtype_name(dtype), " is not supported (f32 or f16)");
  const double bytes = bytes_needed(n_layers, batch, max_pos, width, dtype);
  if (bytes > double(uint64_t(1) << 40))
    fail("KV cache of ", bytes / (1 << 30), " GiB is too large");
  bytes_ = size_t(bytes);
  // Not zeroed: pages are touched as positions are written.
  keys_.reset(new std::byte[bytes_ / 2]);
  values_.reset(new std::byte[bytes_ / 2]);
}

void KvCache::store(int layer, int b, int64_t pos, const float* k, const float* v, int64_t n) {
  const int64_t count = n * width_;
  if (dtype_ == DType::F32) {
    std::memcpy(at(keys_.get(), layer, b, pos), k, size_t(count) * sizeof(float));
    std::memcpy(at(values_.get(), layer, b, pos), v, size_t(count) * sizeof(float));
    return;
  }
  ops::to_f16_rows(k, reinterpret_cast<uint16_t*>(at(keys_.get(), layer, b, pos)), count);
  ops::to_f16_rows(v, reinterpret_cast<uint16_t*>(at(values_.get(), layer, b, pos)), count);
}

void KvCache::truncate(int64_t n) {
  if (n < 0 || n > n_pos_) fail("cannot truncate KV cache of ", n_pos_, " positions to ", n);
  n_pos_ = n;
}

}  // namespace gb
