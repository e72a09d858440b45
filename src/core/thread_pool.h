// A persistent pool of worker threads for data-parallel loops.
//
// Threads are created once; each parallel_for splits [0, n) into one contiguous chunk per thread
// (edges aligned to `grain` so threads do not write the same cache lines), wakes the workers (a
// short spin, then a futex wait), and every thread, the caller first, takes the next chunk not yet
// taken until none is left. It returns when all are done. Not re-entrant: one parallel_for at a
// time per pool.
//
// Chunks are taken, not assigned: the chunk of a worker that is late (not yet awake, or its core
// given to another process) is run by the caller. Assigned, every call waited for the worker, a
// scheduler time slice whenever its core was busy: at two threads with a busy loop on one of the
// two cores, llama100m q8_0 ran prefill 128 at 98 tokens/s and decoded 3 tokens/s, against
// 2300 and 220 taken (3300 and 290 with the core free).
// More, smaller chunks than threads would also even out a thread slowed part way through a call,
// but the prefill products pack x once per call: four per thread cost f32 prefill 8-10%.
//
// A worker that finds itself on the calling thread's CPU moves off it (its affinity becomes the
// CPUs the pool started with, less that one). Linux starts a new thread on its creator's CPU, and
// on a 2-core VM the two then often shared one core for the first tens of milliseconds while the
// other idled: in 4 of 10 runs of `bench -t 2 --prefill 64` on the demo model, 28-30k tokens/s
// instead of 42-45k.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
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
  // callable (Fn is then a reference type; the chunks call the object it refers to). When a chunk
  // throws, on whichever thread, the others still run to their end and the first exception is
  // rethrown to the caller; the pool stays usable.
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
  void worker();
  // Runs chunks of job `generation` until none is left to take.
  void take_chunks(uint32_t generation);
  void run_chunk(int64_t chunk, int64_t chunks);  // chunk of [0, chunks) of the current job
  // Called by a worker before its chunk: leaves the caller's CPU if it is on it.
  void keep_off_caller_cpu();

  int n_threads_;
  std::vector<std::thread> workers_;
  // The current job: written before generation_ is bumped, and not changed until all its chunks
  // are done (a thread that took a chunk of it may read them until then).
  ChunkFn fn_ = nullptr;
  void* ctx_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  // The workers' futex word: the claims word below holds the same generation, but a 64-bit
  // atomic's wait() goes through libstdc++'s shared proxy table instead of a futex on the word.
  std::atomic<uint32_t> generation_{0};
  // The chunks taken so far of job `generation`: generation << 32 | chunks << 16 | taken. Taking a
  // chunk is a compare-exchange of this word, so a thread that wakes after its job is over (the
  // generation differs) takes nothing from the next one.
  std::atomic<uint64_t> claims_{0};
  std::atomic<int> done_{0};  // chunks of the current job finished (or thrown)
  // The first exception a chunk of the current job threw: set by the thread that turned failed_
  // true, read by the caller once every chunk is done.
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
  std::atomic<bool> stop_{false};
  std::atomic<int> caller_cpu_{-1};  // the CPU run() was last called on; -1: unknown
  std::vector<int> cpus_;            // the CPUs the pool may use (its creator's affinity)
};

}  // namespace gb
