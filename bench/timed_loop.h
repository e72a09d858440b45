// The benchmarks' timing: the fastest call rather than the mean (the Time column), so that other
// processes on a shared machine disturb the counters less.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace gb::bench {

// Runs `call(i)` (i = 0, 1, ...) in the benchmark loop; returns the wall seconds of the fastest
// call.
template <typename Call>
double timed_loop(benchmark::State& state, Call&& call) {
  int64_t i = 0;
  double best = 1e30;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    call(i++);
    const std::chrono::duration<double> dt = std::chrono::steady_clock::now() - t0;
    best = std::min(best, dt.count());
  }
  return best;
}

}  // namespace gb::bench
