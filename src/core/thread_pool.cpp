#include "core/thread_pool.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
#include <sched.h>
#endif

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace gb {
namespace {

constexpr int kSpinIterations = 1 << 14;
constexpr int kYieldEvery = 256;

// One step of a spin-wait. Every kYieldEvery steps it yields the core instead: when the kernel has
// put a waiter and the thread it waits for on the same core (seen on a 2-core VM, right after the
// pool starts), pausing alone would hold the core until the time slice ends.
inline void spin_step(int spin) {
  if (spin % kYieldEvery == kYieldEvery - 1) {
    std::this_thread::yield();
    return;
  }
#if defined(__x86_64__)
  _mm_pause();
#endif
}

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
#if defined(__linux__)
  cpu_set_t set;
  CPU_ZERO(&set);
  if (n_threads_ > 1 && sched_getaffinity(0, sizeof set, &set) == 0)
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus_.push_back(c);
#endif
  for (int i = 1; i < n_threads_; ++i) workers_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& t : workers_) t.join();
}

int ThreadPool::hardware_threads() {
  return std::max(1u, std::thread::hardware_concurrency());
}

void ThreadPool::run_chunk(int64_t chunk, int64_t chunks) {
  // Chunk edges are multiples of grain_ (except the end), so neighbours share no cache lines.
  const int64_t blocks = (n_ + grain_ - 1) / grain_;
  const int64_t b0 = blocks * chunk / chunks, b1 = blocks * (chunk + 1) / chunks;
  const int64_t begin = std::min(n_, b0 * grain_), end = std::min(n_, b1 * grain_);
  if (begin < end) fn_(ctx_, begin, end);
}

void ThreadPool::take_chunks(uint32_t generation) {
  uint64_t c = claims_.load(std::memory_order_acquire);
  while (true) {
    const uint64_t taken = c & 0xffff, chunks = (c >> 16) & 0xffff;
    if (uint32_t(c >> 32) != generation || taken == chunks) return;
    if (!claims_.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel,
                                       std::memory_order_acquire))
      continue;
    try {
      run_chunk(int64_t(taken), int64_t(chunks));
    } catch (...) {
      if (!failed_.exchange(true, std::memory_order_acq_rel)) error_ = std::current_exception();
    }
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == int(chunks)) done_.notify_one();
    c = claims_.load(std::memory_order_acquire);
  }
}

void ThreadPool::keep_off_caller_cpu() {
#if defined(__linux__)
  const int caller = caller_cpu_.load(std::memory_order_relaxed);
  if (caller < 0 || cpus_.size() < 2 || sched_getcpu() != caller) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int c : cpus_)
    if (c != caller) CPU_SET(c, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);  // moves this thread at once
#endif
}

void ThreadPool::run(int64_t n, int64_t grain, ChunkFn fn, void* ctx) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  const int64_t blocks = (n + grain - 1) / grain;
  if (n_threads_ == 1 || blocks == 1) {
    fn(ctx, 0, n);
    return;
  }
#if defined(__linux__)
  caller_cpu_.store(sched_getcpu(), std::memory_order_relaxed);
#endif
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  grain_ = grain;
  const int chunks = int(std::min<int64_t>(blocks, n_threads_));
  done_.store(0, std::memory_order_relaxed);
  const uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
  claims_.store(uint64_t(generation) << 32 | uint64_t(chunks) << 16, std::memory_order_release);
  generation_.store(generation, std::memory_order_release);
  generation_.notify_all();
  take_chunks(generation);
  for (int spin = 0;; ++spin) {
    const int done = done_.load(std::memory_order_acquire);
    if (done == chunks) break;
    if (spin < kSpinIterations)
      spin_step(spin);
    else
      done_.wait(done, std::memory_order_acquire);
  }
  if (failed_.load(std::memory_order_acquire)) {
    std::exception_ptr error = std::exchange(error_, nullptr);
    failed_.store(false, std::memory_order_relaxed);
    std::rethrow_exception(error);
  }
}

void ThreadPool::worker() {
  uint32_t seen = 0;
  while (true) {
    uint32_t gen = generation_.load(std::memory_order_acquire);
    for (int spin = 0; gen == seen; ++spin) {
      if (spin < kSpinIterations) {
        spin_step(spin);
      } else {
        generation_.wait(seen, std::memory_order_acquire);
      }
      gen = generation_.load(std::memory_order_acquire);
    }
    seen = gen;
    if (stop_.load()) return;
    keep_off_caller_cpu();
    take_chunks(gen);
  }
}

}  // namespace gb
