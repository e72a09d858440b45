// glassbox bench: prefill and decode speed of a model, and peak memory.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"

namespace gb::cli {
namespace {

struct BenchArgs {
  ModelArgs model;
  std::vector<int64_t> prefill = {128, 512};
  std::vector<int64_t> decode_ctx = {128, 1024};
  int64_t decode_tokens = 32;
  std::vector<int> threads;
  int repeats = 3;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::vector<int32_t> random_tokens(int64_t n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = dist(rng);
  return ids;
}

// Best of `repeats` runs of a prefill of n tokens: tokens per second.
double prefill_speed(Model& m, int64_t n, int repeats) {
  const auto ids = random_tokens(n, m.config().d_vocab, 1);
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    KvCache cache = m.new_cache(1, n);
    Tensor logits;
    const auto t0 = Clock::now();
    m.forward({ids, 1, n}, cache, Hooks(), logits);
    best = std::max(best, double(n) / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

// Decoding `steps` tokens one at a time after a context of ctx tokens: tokens per second.
double decode_speed(Model& m, int64_t ctx, int64_t steps, int repeats) {
  const auto ids = random_tokens(ctx + steps, m.config().d_vocab, 2);
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    KvCache cache = m.new_cache(1, ctx + steps);
    Tensor logits;
    m.forward({std::span(ids).first(size_t(ctx)), 1, ctx}, cache, Hooks(), logits);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < steps; ++i)
      m.forward({std::span(ids).subspan(size_t(ctx + i), 1), 1, 1}, cache, Hooks(), logits);
    best = std::max(best, double(steps) / std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

void run_bench(BenchArgs a) {
  auto model = a.model.load();
  if (model->config().family == Family::TorchTransformer)
    usage_fail(model->path(),
               ": bench measures token models; time an encoder-decoder model's "
               "glassbox run instead");
  const int n_ctx = model->config().n_ctx;
  if (a.threads.empty()) a.threads = {1, ThreadPool::hardware_threads()};
  std::sort(a.threads.begin(), a.threads.end());
  a.threads.erase(std::unique(a.threads.begin(), a.threads.end()), a.threads.end());
  nlohmann::json j = {{"model", model->path()},
                      {"arch", model->config().arch},
                      {"n_params", model->config().n_params},
                      {"results", nlohmann::json::array()}};
  Table t({"threads", "test", "tokens/s"});
  auto report = [&](int threads, const std::string& test, double tps) {
    t.add({std::to_string(threads), test, fixed(tps, 1)});
    j["results"].push_back({{"threads", threads}, {"test", test}, {"tokens_per_s", tps}});
  };
  for (int threads : a.threads) {
    if (threads <= 0) usage_fail("--threads values must be positive");
    model->set_threads(threads);
    for (int64_t n : a.prefill) {
      if (n > n_ctx) continue;
      report(threads, "prefill " + std::to_string(n), prefill_speed(*model, n, a.repeats));
    }
    for (int64_t ctx : a.decode_ctx) {
      if (ctx + a.decode_tokens > n_ctx) continue;
      report(threads, "decode @" + std::to_string(ctx),
             decode_speed(*model, ctx, a.decode_tokens, a.repeats));
    }
  }
  j["peak_rss_mib"] = peak_rss_mib();
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s (%s, %s parameters)\n%speak RSS %.1f MiB\n", model->path().c_str(),
              model->config().arch.c_str(), human_count(double(model->config().n_params)).c_str(),
              t.str({0, 2}).c_str(), peak_rss_mib());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed and peak memory");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("-m,--model", args->model.path,
                  "Model file or checkpoint folder (default: the demo model)");
  cmd->add_option("-t,--threads", args->threads,
                  "Thread counts to measure (default: 1 and all cores)");
  cmd->add_option("--prefill", args->prefill, "Prompt lengths for prefill (default 128 512)");
  cmd->add_option("--decode-ctx", args->decode_ctx,
                  "Context lengths for decode (default 128 1024)");
  cmd->add_option("--decode-tokens", args->decode_tokens,
                  "Tokens decoded per measurement (default 32)");
  cmd->add_option("--repeats", args->repeats, "Best of this many runs (default 3)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace gb::cli
