// The machine's memory read bandwidth, measured: the ceiling for decoding, which reads every
// weight once per token.
#pragma once

#include <cstddef>

#include "core/thread_pool.h"

namespace gb::cli {

// Bytes per second of streaming reads over a buffer of `bytes` (far larger than the caches),
// split over the pool's threads; the best of `repeats` passes.
double read_bandwidth(ThreadPool& pool, size_t bytes = size_t(1) << 30, int repeats = 5);

}  // namespace gb::cli
