// glassbox bench: prefill and decode speed of a model with and without observation, the memory
// bandwidth bound of decoding, and peak memory.
//
// Modes (--mode, several allowed):
//   none      no hook requested (each hook site costs its one branch)
//   stats     streaming activation statistics (analysis::ActivationStats, as `glassbox stats`)
//             on every hook site except those that make the forward pass compute more than it
//             otherwise would: attn_scores / pattern (materialised attention), result (per-head
//             outputs) and logits (all positions instead of the last); each timed run ends
//             with the statistics complete (ActivationStats::flush())
//   patterns  every layer's attention pattern copied into an ActivationCache (as
//             run_with_cache(tokens, "blocks.*.attn.hook_pattern")); when decoding, each step's
//             new rows are cached afresh
//   all       every hook of the model copied into an ActivationCache (run_with_cache(tokens,
//             "all")): the price of observing everything
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "analysis/activation_stats.h"
#include "cli/bandwidth.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"
#include "observe/activation_cache.h"
#include "observe/hooked_model.h"

namespace gb::cli {
namespace {

enum class Mode { None, Stats, Patterns, All };

struct BenchArgs {
  ModelArgs model;
  std::vector<int64_t> prefill = {128, 512};
  std::vector<int64_t> decode_ctx = {128, 1024};
  int64_t decode_tokens = 32;
  std::vector<int> threads;
  std::vector<std::string> modes = {"none"};
  int repeats = 3;
  bool kv_f16 = false;
  bool bandwidth = false;
  bool json = false;
};

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peak_rss_bytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) * 1024.0;  // ru_maxrss is in KiB on Linux
}

Mode parse_mode(const std::string& s) {
  if (s == "none") return Mode::None;
  if (s == "stats") return Mode::Stats;
  if (s == "patterns") return Mode::Patterns;
  if (s == "all") return Mode::All;
  usage_fail("--mode '", s, "' is not one of none, stats, patterns, all");
}

// The hook filter of stats mode: every site that observing does not make more expensive.
std::string stats_filter(const HookedModel& hm) {
  std::string filter;
  for (const CatalogEntry& e : hm.catalog().entries) {
    const HookSite s = e.point.site;
    if (s == HookSite::AttnScores || s == HookSite::Pattern || s == HookSite::Result ||
        s == HookSite::Logits)
      continue;
    filter += (filter.empty() ? "" : ",") + e.name;
  }
  return filter;
}

// What one mode observes: its hook mask and the sink the hooks feed.
class ModeObserver {
 public:
  ModeObserver(HookedModel& hm, Mode mode) {
    if (mode == Mode::Stats) {
      const std::string filter = stats_filter(hm);
      plan_ = hm.plan(filter);
      stats_ =
          std::make_unique<analysis::ActivationStats>(hm, analysis::StatsOptions{.hooks = filter});
    } else if (mode == Mode::Patterns || mode == Mode::All) {
      plan_ = hm.plan(mode == Mode::All ? "all" : "blocks.*.attn.hook_pattern");
      cache_ = std::make_unique<ActivationCache>(plan_);
    }
  }
  Hooks hooks() const {
    if (stats_) return Hooks(plan_->mask(), *stats_);
    if (cache_) return Hooks(plan_->mask(), *cache_);
    return Hooks();
  }
  // Before each forward pass: the pattern cache keeps one pass's copies, as a user who caches
  // each step and hands it on would.
  void new_pass() {
    if (cache_) cache_->clear();
  }
  // At the end of a run, inside its time: the statistics complete. Rows that came a few at a
  // time are held back and counted in blocks (ActivationStats); without this, a run could end
  // before its rows were counted and the best of several runs would be one that counted least
  // (the embedded model, 256 rows per block: one counting per 4 prefills of 64 tokens, per 8
  // decoding runs of 32).
  void end_run() {
    if (stats_) stats_->flush();
  }

 private:
  std::shared_ptr<const HookPlan> plan_;
  std::unique_ptr<analysis::ActivationStats> stats_;
  std::unique_ptr<ActivationCache> cache_;
};

std::vector<int32_t> random_tokens(int64_t n, int vocab, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (auto& id : ids) id = dist(rng);
  return ids;
}

// One workload measured in every mode: a prefill of n tokens, or `steps` tokens decoded one at a
// time after a context of ctx. One cache for all of its runs, as a session reuses its cache (and
// llama.cpp its context): a fresh one per run would time the kernel's first touch of its pages.
class Workload {
 public:
  static Workload prefill(Model& m, DType kv_type, int64_t n) {
    return Workload(m, random_tokens(n, m.config().d_vocab, 1), m.new_cache(1, n, kv_type), 0, n);
  }
  // The context is run once, unobserved, in pieces of at most kFillChunk tokens: one 1024-token
  // pass would hold activations for all 1024 positions at once (llama.cpp's default micro-batch
  // is 512 too).
  static Workload decode(Model& m, DType kv_type, int64_t ctx, int64_t steps) {
    Workload w(m, random_tokens(ctx + steps, m.config().d_vocab, 2),
               m.new_cache(1, ctx + steps, kv_type), ctx, steps);
    Tensor logits;
    for (int64_t p = 0; p < ctx; p += kFillChunk) {
      const int64_t n = std::min(kFillChunk, ctx - p);
      m.forward({w.ids().subspan(size_t(p), size_t(n)), 1, n}, w.cache_, Hooks(), logits);
    }
    return w;
  }

  // One run observed by obs: tokens per second. An untimed (warm-up) decoding run decodes one
  // token only.
  double run(ModeObserver& obs, bool warm_up) {
    cache_.truncate(ctx_);
    Tensor logits;
    const int64_t steps = ctx_ > 0 && warm_up ? 1 : steps_;
    const auto t0 = Clock::now();
    if (ctx_ == 0) {  // prefill: the whole prompt in one pass
      obs.new_pass();
      m_.forward({ids().subspan(0, size_t(steps)), 1, steps}, cache_, obs.hooks(), logits);
    } else {
      for (int64_t i = 0; i < steps; ++i) {
        obs.new_pass();
        m_.forward({ids().subspan(size_t(ctx_ + i), 1), 1, 1}, cache_, obs.hooks(), logits);
      }
    }
    obs.end_run();
    return double(steps) / seconds_since(t0);
  }

 private:
  static constexpr int64_t kFillChunk = 512;
  Workload(Model& m, std::vector<int32_t> ids, KvCache cache, int64_t ctx, int64_t steps)
      : m_(m), tokens_(std::move(ids)), cache_(std::move(cache)), ctx_(ctx), steps_(steps) {}
  std::span<const int32_t> ids() const { return tokens_; }
  Model& m_;
  std::vector<int32_t> tokens_;
  KvCache cache_;
  int64_t ctx_, steps_;  // ctx 0: a prefill of steps tokens
};

// Best of `repeats` timed runs of w per mode, the modes taking turns (1, 2, .., 1, 2, ..) after
// one untimed run of each. The untimed run makes the first touches of the activations, the
// threads' scratch and the observers' buffers (with one repeat, the timed run was that cold one:
// demo model, 15k tokens/s for a 40k one). Taking turns spreads every mode's runs over the same
// stretch of time, so that a change in the machine's speed while it is measured (other tenants;
// on a VM, where its CPUs are placed: this one's two-thread runs come at two speeds) reaches all
// modes alike, and the ratios between modes compare runs made side by side. On a quiet machine
// both orders read the same (demo model, three runs each, best of all: stats/none 0.80-0.85
// either way); one mode after the other, a spell of a few seconds could cover one mode's runs
// only.
std::vector<double> best_in_turns(Workload& w, std::vector<ModeObserver>& modes, int repeats) {
  for (ModeObserver& obs : modes) w.run(obs, true);
  std::vector<double> best(modes.size(), 0.0);
  for (int r = 0; r < repeats; ++r)
    for (size_t i = 0; i < modes.size(); ++i) best[i] = std::max(best[i], w.run(modes[i], false));
  return best;
}

// Bytes of weights one decoded token reads: every matrix once, but only one row of an untied
// token embedding.
double weight_bytes_per_token(const Model& m) {
  double total = 0;
  for (const auto& [name, t] : m.tensors().all()) total += double(t.bytes);
  if (const io::TensorRef* e = m.tensors().find("token_embd.weight");
      e && !m.config().tied_embeddings && !e->shape.empty())
    total -= double(e->bytes) * (1.0 - 1.0 / double(e->shape[0]));
  return total;
}

double file_bytes(const Model& m) {
  double total = 0;
  for (const auto& f : m.tensors().files()) total += double(f->size());
  return total;
}

// Bytes of the model's files mapped with huge pages (io::MappedFile::prefer_huge_pages), or -1
// where that does not apply (see io::MappedFile::huge_page_bytes).
double huge_page_bytes(const Model& m) {
  double total = 0;
  for (const auto& f : m.tensors().files()) {
    const int64_t huge = f->huge_page_bytes();
    if (huge < 0) return -1;
    total += double(huge);
  }
  return total;
}

// The matrix dtype most of the weight bytes are in ("q4_0", ...).
std::string weight_type(const Model& m) {
  std::map<std::string, double> bytes;
  for (const auto& [name, t] : m.tensors().all())
    if (t.shape.size() == 2) bytes[std::string(dtype_name(t.dtype))] += double(t.bytes);
  std::string best;
  for (const auto& [type, b] : bytes)
    if (best.empty() || b > bytes[best]) best = type;
  return best;
}

// Clamps thread counts to 1 .. hardware threads (warning on stderr), sorted, unique.
std::vector<int> clamp_threads(std::vector<int> threads) {
  const int hw = ThreadPool::hardware_threads();
  if (threads.empty()) threads = {1, hw};
  for (int& t : threads) {
    const int c = std::clamp(t, 1, hw);
    if (c != t)
      std::fprintf(stderr,
                   "glassbox: warning: --threads %d is outside 1..%d (hardware threads); "
                   "using %d\n",
                   t, hw, c);
    t = c;
  }
  std::sort(threads.begin(), threads.end());
  threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
  return threads;
}

// Bad lengths, and lengths whose KV cache would not fit in memory, before anything is measured.
// Whether a context of n positions is measured: GPT-2 skips those past its learned positions.
bool measured(const ModelConfig& c, int64_t n) {
  return c.family != Family::Gpt2 || n <= c.n_ctx;
}

void check_lengths(const BenchArgs& a, const Model& m, DType kv_type) {
  const ModelConfig& c = m.config();
  if (a.repeats <= 0) usage_fail("--repeats must be positive");
  if (a.decode_tokens <= 0) usage_fail("--decode-tokens must be positive");
  for (int64_t n : a.prefill)
    if (n <= 0) usage_fail("--prefill lengths must be positive");
  for (int64_t n : a.decode_ctx)
    if (n <= 0) usage_fail("--decode-ctx lengths must be positive");
  if (c.family == Family::TorchTransformer)
    usage_fail("bench measures token models; time an encoder-decoder model's glassbox run instead");
  int64_t longest = 0;  // the longest context measured
  for (int64_t n : a.prefill)
    if (measured(c, n)) longest = std::max(longest, n);
  for (int64_t n : a.decode_ctx)
    if (measured(c, n + a.decode_tokens)) longest = std::max(longest, n + a.decode_tokens);
  if (longest > 0) m.check_cache(1, longest, kv_type);
}

void run_bench(BenchArgs a) {
  a.model.threads = 1;  // set per measurement below
  HookedModel hm(a.model.load());
  Model& model = hm.model();
  const ModelConfig& c = model.config();
  const DType kv_type = a.kv_f16 ? DType::F16 : DType::F32;
  check_lengths(a, model, kv_type);
  a.threads = clamp_threads(a.threads);
  std::vector<Mode> modes;
  for (const auto& s : a.modes) modes.push_back(parse_mode(s));
  if (!kHooksCompiled &&
      std::any_of(modes.begin(), modes.end(), [](Mode m) { return m != Mode::None; }))
    usage_fail("this glassbox was built with GLASSBOX_HOOKS=OFF: only --mode none can be measured");
  const double weights_per_token = weight_bytes_per_token(model);

  nlohmann::json j = {{"model", model.path()},
                      {"arch", c.arch},
                      {"n_params", c.n_params},
                      {"weight_type", weight_type(model)},
                      {"file_bytes", file_bytes(model)},
                      {"weight_bytes_per_token", weights_per_token},
                      {"hooks_compiled", kHooksCompiled},
                      {"kv_type", std::string(dtype_name(kv_type))},
                      {"results", nlohmann::json::array()}};
  // fn(kind, n, workload) for every test asked for, at the pool's thread count.
  auto for_each_workload = [&](auto&& fn) {
    for (int64_t n : a.prefill)
      if (measured(c, n)) fn("prefill", n, Workload::prefill(model, kv_type, n));
    for (int64_t ctx : a.decode_ctx)
      if (measured(c, ctx + a.decode_tokens))
        fn("decode", ctx, Workload::decode(model, kv_type, ctx, a.decode_tokens));
  };
  // Peak memory unobserved: every test run once without hooks, before any observer has buffers
  // to fill.
  if (std::find(modes.begin(), modes.end(), Mode::None) != modes.end()) {
    ModeObserver none(hm, Mode::None);
    for (int threads : a.threads) {
      model.set_threads(threads);
      for_each_workload([&](const char*, int64_t, Workload w) { w.run(none, true); });
    }
    j["peak_rss_bytes_after_none"] = peak_rss_bytes();
  }
  std::vector<ModeObserver> observers;
  for (Mode mode : modes) observers.emplace_back(hm, mode);
  std::map<std::pair<size_t, int>, nlohmann::json> results;  // (mode, threads) -> its results
  for (int threads : a.threads) {
    model.set_threads(threads);
    for_each_workload([&](const char* kind, int64_t n, Workload w) {
      const std::vector<double> best = best_in_turns(w, observers, a.repeats);
      for (size_t mi = 0; mi < modes.size(); ++mi)
        results[{mi, threads}].push_back({{"threads", threads},
                                          {"mode", a.modes[mi]},
                                          {"kind", kind},
                                          {"n", n},
                                          {"tokens_per_s", best[mi]}});
    });
  }
  for (const auto& [key, rows] : results)
    for (const auto& r : rows) j["results"].push_back(r);
  j["peak_rss_bytes"] = peak_rss_bytes();         // before the bandwidth test's buffer
  j["huge_page_bytes"] = huge_page_bytes(model);  // as the runs left the mapping

  std::map<int, double> bandwidth;  // threads -> bytes/s
  if (a.bandwidth)
    for (int t : a.threads) {
      model.set_threads(t);
      bandwidth[t] = read_bandwidth(model.pool());
      j["bandwidth_gb_per_s"][std::to_string(t)] = bandwidth[t] / 1e9;
    }
  Table t({"threads", "mode", "test", "tokens/s", "weights GB/s", "of bandwidth"});
  for (auto& r : j["results"]) {
    const int threads = r["threads"].get<int>();
    const double tps = r["tokens_per_s"].get<double>();
    const std::string kind = r["kind"].get<std::string>();
    std::string gbs, frac;
    if (kind == "decode") {
      r["weight_bytes_per_s"] = weights_per_token * tps;
      gbs = fixed(weights_per_token * tps / 1e9, 2);
      if (bandwidth.count(threads)) {
        r["bandwidth_fraction"] = weights_per_token * tps / bandwidth[threads];
        frac = fixed(100 * weights_per_token * tps / bandwidth[threads], 1) + "%";
      }
    }
    t.add({std::to_string(threads), r["mode"].get<std::string>(),
           kind + (kind == "decode" ? " @" : " ") + std::to_string(r["n"].get<int64_t>()),
           fixed(tps, 1), gbs, frac});
  }
  int64_t longest = 0;
  for (int64_t n : a.prefill) longest = std::max(longest, n);
  for (int64_t n : a.decode_ctx) longest = std::max(longest, n + a.decode_tokens);
  j["kv_bytes_longest"] =
      KvCache::bytes_needed(c.n_layers, 1, longest, c.n_kv_heads * c.d_head, kv_type);
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s (%s, %s parameters, %s weights, KV cache %s%s)\n", model.path().c_str(),
              c.arch.c_str(), human_count(double(c.n_params)).c_str(),
              j["weight_type"].get<std::string>().c_str(), j["kv_type"].get<std::string>().c_str(),
              kHooksCompiled ? "" : ", hooks compiled out");
  for (const auto& [threads, bw] : bandwidth)
    std::printf("memory read bandwidth, %d thread%s: %.1f GB/s\n", threads, threads > 1 ? "s" : "",
                bw / 1e9);
  const double huge = j["huge_page_bytes"].get<double>();
  std::printf(
      "weights read per decoded token: %s\n%speak RSS %s (file %s%s, largest KV cache %s)\n",
      human_bytes(weights_per_token).c_str(), t.str({0, 3, 4, 5}).c_str(),
      human_bytes(j["peak_rss_bytes"].get<double>()).c_str(),
      human_bytes(file_bytes(model)).c_str(),
      huge < 0 ? "" : (", " + human_bytes(huge) + " of it in huge pages").c_str(),
      human_bytes(j["kv_bytes_longest"].get<double>()).c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Measure prefill and decode speed and peak memory");
  auto args = std::make_shared<BenchArgs>();
  cmd->add_option("-m,--model", args->model.path,
                  "Model file or checkpoint folder (default: the demo model)");
  cmd->add_option("-t,--threads", args->threads,
                  "Thread counts to measure (default: 1 and all cores; clamped to the cores)");
  cmd->add_option("--prefill", args->prefill, "Prompt lengths for prefill (default 128 512)");
  cmd->add_option("--decode-ctx", args->decode_ctx,
                  "Context lengths for decode (default 128 1024)");
  cmd->add_option("--decode-tokens", args->decode_tokens,
                  "Tokens decoded per measurement (default 32)");
  cmd->add_option("--mode", args->modes,
                  "Observation: none, stats (streaming statistics on every hook), patterns (all "
                  "attention patterns cached), all (every hook cached); several allowed (default "
                  "none)");
  cmd->add_flag("--kv-f16", args->kv_f16, "Keep the KV cache in f16");
  cmd->add_flag("--bandwidth", args->bandwidth,
                "Measure the memory read bandwidth and report decode against it");
  cmd->add_option("--repeats", args->repeats,
                  "Best of this many timed runs, after an untimed one (default 3)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace gb::cli
