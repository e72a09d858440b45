// A persistent pool of worker threads for data-parallel loops.
//
// Threads are created once; each parallel_for wakes them (a short spin, then a futex wait), splits
// [0, n) into one contiguous chunk per thread (chunk edges aligned to `grain` so threads do not
// write the same cache lines), runs the chunks, and returns when all are done. The calling thread
// works on chunk 0. Not re-entrant: one parallel_for at a time per pool.
//
// A worker that finds itself on the calling thread's CPU moves off it (its affinity becomes the
// CPUs the pool started with, less that one). Linux starts a new thread on its creator's CPU, and
// on a 2-core VM the two then often shared one core for the first tens of milliseconds while the
// other idled: in 4 of 10 runs of `bench -t 2 --prefill 64` on the demo model, 28-30k tokens/s
// instead of 42-45k.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace gb {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end) on disjoint chunks covering [0, n). fn may be a temporary or a named
  // callable (Fn is then a reference type; the chunks call the object it refers to).
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn, int64_t grain = 1) {
    using Callable = std::remove_reference_t<Fn>;
    auto call = [](void* ctx, int64_t begin, int64_t end) {
      (*static_cast<Callable*>(ctx))(begin, end);
    };
    run(n, grain, call, const_cast<void*>(static_cast<const void*>(&fn)));
  }

  // Number of hardware threads of this machine (at least 1).
  static int hardware_threads();

 private:
  using ChunkFn = void (*)(void* ctx, int64_t begin, int64_t end);
  void run(int64_t n, int64_t grain, ChunkFn fn, void* ctx);
  void worker(int index);
  void run_chunk(int index);
  // Called by a worker before its chunk: leaves the caller's CPU if it is on it.
  void keep_off_caller_cpu();

  int n_threads_;
  std::vector<std::thread> workers_;
  // The current job, published by bumping generation_.
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> caller_cpu_{-1};  // the CPU run() was last called on; -1: unknown
  std::vector<int> cpus_;            // the CPUs the pool may use (its creator's affinity)
};

}  // namespace gb
