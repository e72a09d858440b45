#include "core/thread_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace gb {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 5, 64, 1000, 4097}) {
      for (int64_t grain : {1, 16}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(
            n,
            [&](int64_t b, int64_t e) {
              for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
            },
            grain);
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[size_t(i)].load(), 1) << n << " " << i;
      }
    }
  }
}

TEST(ThreadPool, ManySmallJobsInARow) {
  ThreadPool pool(2);
  std::atomic<int64_t> sum{0};
  for (int rep = 0; rep < 20000; ++rep)
    pool.parallel_for(4, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 80000);
}

// A chunk that throws, on a worker or on the calling thread: the caller gets the exception once
// the other chunk has run to its end, and the pool goes on working. Each chunk waits for the
// other to start, so the two run on different threads.
TEST(ThreadPool, ExceptionOfAChunkReachesTheCaller) {
  ThreadPool pool(2);
  const std::thread::id caller = std::this_thread::get_id();
  for (const bool throw_on_worker : {true, false}) {
    for (int rep = 0; rep < 20; ++rep) {
      std::atomic<int> started{0}, finished{0};
      std::atomic<bool> apart{true};
      std::string what;
      try {
        pool.parallel_for(2, [&](int64_t b, int64_t) {
          ++started;
          const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while (started.load() < 2 && std::chrono::steady_clock::now() < until) {
          }
          if (started.load() < 2) apart = false;
          if ((std::this_thread::get_id() != caller) == throw_on_worker)
            throw std::runtime_error("chunk " + std::to_string(b));
          ++finished;
        });
      } catch (const std::runtime_error& e) {
        what = e.what();
      }
      ASSERT_TRUE(apart.load()) << "the worker took no chunk within 10 s";
      EXPECT_TRUE(what == "chunk 0" || what == "chunk 1") << "rethrown: '" << what << "'";
      EXPECT_EQ(finished.load(), 1) << "the chunk that did not throw did not finish";
    }
  }
  std::atomic<int64_t> sum{0};
  for (int rep = 0; rep < 100; ++rep)
    pool.parallel_for(1000, [&](int64_t b, int64_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 100000);
}

// Busy work of about `us` microseconds.
void spin_for_us(int us) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(us);
  while (std::chrono::steady_clock::now() < until) {
  }
}

// A worker that takes a chunk must not share the caller's CPU (without the pool moving its
// worker, they did for the first tens of milliseconds in about 4 runs of 10 on a 2-core VM, which
// this test then catches).
TEST(ThreadPool, WorkerLeavesTheCallersCpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  if (CPU_COUNT(&set) < 2) GTEST_SKIP() << "needs two CPUs, this process may use one";
  ThreadPool pool(2);
  const std::thread::id caller = std::this_thread::get_id();
  // Until the worker has run 300 chunks: when its core is busy with another process, the caller
  // runs both chunks of many calls.
  int shared = 0, by_worker = 0;
  for (int rep = 0; rep < 30000 && by_worker < 300; ++rep) {
    int cpu[2] = {-1, -1};
    bool worker[2] = {false, false};
    pool.parallel_for(2, [&](int64_t b, int64_t e) {
      spin_for_us(20);  // long enough for the spinning worker to take the other chunk
      for (int64_t i = b; i < e; ++i) {
        cpu[i] = sched_getcpu();
        worker[i] = std::this_thread::get_id() != caller;
      }
    });
    ASSERT_GE(cpu[0], 0);
    ASSERT_GE(cpu[1], 0);
    if (worker[0] == worker[1]) continue;  // the caller ran both
    ++by_worker;
    shared += cpu[0] == cpu[1];
  }
  EXPECT_EQ(by_worker, 300) << "calls had a chunk run by the worker, of 30000";
  EXPECT_LE(shared, 5) << "of 300 calls ran the worker's chunk on the caller's CPU";
}

// A worker asleep when a call starts (it waits on a futex after a short spin) is not waited for:
// the caller takes its chunk. Assigned to the worker, the chunk waited for it to wake every time.
TEST(ThreadPool, CallerTakesTheChunkOfAWorkerNotYetAwake) {
  ThreadPool pool(2);
  const std::thread::id caller = std::this_thread::get_id();
  int by_caller_alone = 0;
  for (int rep = 0; rep < 20; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the worker goes to sleep
    std::atomic<int> by_caller{0};
    pool.parallel_for(2, [&](int64_t b, int64_t e) {
      if (std::this_thread::get_id() == caller) by_caller += int(e - b);
    });
    by_caller_alone += by_caller.load() == 2;
  }
  EXPECT_GE(by_caller_alone, 1) << "in 20 calls after a pause, the worker always ran a chunk";
}

}  // namespace
}  // namespace gb
