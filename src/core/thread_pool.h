// A persistent pool of worker threads for data-parallel loops.
//
// Threads are created once; each parallel_for wakes them (a short spin, then a futex wait), splits
// [0, n) into one contiguous chunk per thread (chunk edges aligned to `grain` so threads do not
// write the same cache lines), runs the chunks, and returns when all are done. The calling thread
// works on chunk 0. Not re-entrant: one parallel_for at a time per pool.
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

namespace gb {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Calls fn(begin, end) on disjoint chunks covering [0, n).
  template <typename Fn>
  void parallel_for(int64_t n, Fn&& fn, int64_t grain = 1) {
    auto call = [](void* ctx, int64_t begin, int64_t end) { (*static_cast<Fn*>(ctx))(begin, end); };
    run(n, grain, call, &fn);
  }

  // Number of hardware threads of this machine (at least 1).
  static int hardware_threads();

 private:
  using ChunkFn = void (*)(void* ctx, int64_t begin, int64_t end);
  void run(int64_t n, int64_t grain, ChunkFn fn, void* ctx);
  void worker(int index);
  void run_chunk(int index);

  int n_threads_;
  std::vector<std::thread> workers_;
  // The current job, published by bumping generation_.
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  std::atomic<uint32_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace gb
