#include "core/thread_pool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
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

// The caller runs chunk 0 and the worker chunk 1; they must not share a CPU (without the pool
// moving its worker, they did for the first tens of milliseconds in about 4 runs of 10 on a
// 2-core VM, which this test then catches).
TEST(ThreadPool, WorkerLeavesTheCallersCpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  if (CPU_COUNT(&set) < 2) GTEST_SKIP() << "needs two CPUs, this process may use one";
  ThreadPool pool(2);
  int shared = 0;
  for (int rep = 0; rep < 300; ++rep) {
    int cpu[2] = {-1, -1};
    pool.parallel_for(2, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) cpu[i] = sched_getcpu();
    });
    ASSERT_GE(cpu[0], 0);
    ASSERT_GE(cpu[1], 0);
    shared += cpu[0] == cpu[1];
  }
  EXPECT_LE(shared, 5) << "of 300 parallel_for calls ran both chunks on one CPU";
}

}  // namespace
}  // namespace gb
