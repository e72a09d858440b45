// glassbox generate: continue a prompt token by token through the KV cache.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/observation_summaries.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interventions_args.h"
#include "cli/table.h"
#include "core/error.h"
#include "export/run_log.h"
#include "model/sampler.h"
#include "observe/hooked_model.h"
#include "observe/trace_stream.h"
#include "observe/trace_writer.h"
#include "tokenizer/tokenizer.h"

namespace gb::cli {
namespace {

struct GenerateArgs {
  ModelArgs model;
  PromptArgs prompt;
  InterventionArgs intervene;
  int n = 32;
  SamplerOptions sampler;
  bool json = false;
  bool ignore_eos = false;
  std::vector<std::string> hooks;  // capture these during generation ...
  std::string trace_out;           // ... into this directory
  std::string budget = "256M";     // in memory up to this size, else streamed to disk
  std::string tensorboard;         // per-token scalars into this log directory
};

// "64M", "1G", "4096", "512K" -> bytes.
int64_t parse_bytes(const std::string& s) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    usage_fail("--memory-budget: '", s, "' is not a size like 64M or 1G");
  }
  const std::string unit = s.substr(used);
  double mult = 1;
  if (unit == "K" || unit == "k" || unit == "KiB")
    mult = 1024;
  else if (unit == "M" || unit == "MiB")
    mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB")
    mult = 1024.0 * 1024 * 1024;
  else if (!unit.empty())
    usage_fail("--memory-budget: unknown unit '", unit, "' (use K, M or G)");
  if (v < 0) usage_fail("--memory-budget must not be negative");
  return int64_t(v * mult);
}

// Where the activations captured during generation go: memory (written at the end) or files
// of their final shape written as the tokens come.
class Capture {
 public:
  Capture(const GenerateArgs& a, HookedModel& hm, const std::vector<int32_t>& prompt) : hm_(hm) {
    if (a.hooks.empty()) {
      if (!a.trace_out.empty()) usage_fail("--trace-out needs --hooks");
      return;
    }
    if (a.trace_out.empty()) usage_fail("--hooks during generate needs --trace-out DIR");
    for (const auto& h : a.hooks) filter_ += (filter_.empty() ? "" : ",") + h;
    plan_ = hm.plan(filter_);
    const ModelConfig& c = hm.model().config();
    max_positions_ = int64_t(prompt.size()) + a.n - 1;
    const int64_t total = capture_bytes(*plan_, c, max_positions_);
    const int64_t budget = parse_bytes(a.budget);
    if (budget < total / max_positions_)
      usage_fail("--memory-budget ", a.budget, " is too small for one token's activations (",
                 human_bytes(double(total) / double(max_positions_)), ")");
    TraceInfo info{.model_path = hm.model().path(),
                   .config = c,
                   .tokens = {},
                   .token_strings = {},
                   .filter = filter_};
    manifest_ = std::make_unique<TraceManifest>(a.trace_out, info);
    if (total > budget) {
      stream_ = std::make_unique<TraceStream>(*manifest_, plan_, c, max_positions_);
      std::fprintf(stderr, "glassbox: capture of %s exceeds the memory budget; streaming to %s\n",
                   human_bytes(double(total)).c_str(), a.trace_out.c_str());
    } else {
      cache_ = std::make_unique<ActivationCache>(plan_);
    }
  }
  bool active() const { return plan_ != nullptr; }
  const HookMask& mask() const { return plan_->mask(); }
  Observer& observer() { return stream_ ? static_cast<Observer&>(*stream_) : *cache_; }
  void finish(const std::vector<int32_t>& run_tokens) {
    if (!plan_) return;
    std::vector<std::string> strings;
    for (int32_t id : run_tokens) strings.push_back(token_label(hm_.model(), id));
    manifest_->set_tokens(run_tokens, strings);
    if (stream_) {
      stream_->finish(int64_t(run_tokens.size()));
      manifest_->write();
    } else {
      TraceInfo info{.model_path = hm_.model().path(),
                     .config = hm_.model().config(),
                     .tokens = run_tokens,
                     .token_strings = strings,
                     .filter = filter_};
      write_trace(manifest_->dir(), TraceFormat::Npy, *cache_, *plan_, info);
    }
  }

 private:
  HookedModel& hm_;
  std::string filter_;
  std::shared_ptr<const HookPlan> plan_;
  int64_t max_positions_ = 0;
  std::unique_ptr<TraceManifest> manifest_;
  std::unique_ptr<TraceStream> stream_;
  std::unique_ptr<ActivationCache> cache_;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_generate(const GenerateArgs& a) {
  if (a.n <= 0) usage_fail("-n must be positive");
  HookedModel hm(a.model.load());
  Model* model = &hm.model();
  const std::vector<int32_t> prompt = a.prompt.ids(*model);
  const int64_t total = int64_t(prompt.size()) + a.n;
  if (total > model->config().n_ctx)
    usage_fail("prompt of ", prompt.size(), " tokens plus ", a.n,
               " new ones exceeds the model's context of ", model->config().n_ctx);
  Sampler sampler(a.sampler);
  // Opened before anything else is written: an unwritable log directory fails at once.
  std::unique_ptr<RunLog> log;
  if (!a.tensorboard.empty()) log = std::make_unique<RunLog>(a.tensorboard);
  Capture capture(a, hm, prompt);
  const analysis::TokenLabeler label = analysis::model_labeler(*model);
  // Interventions act first; the capture records what they produced.
  Interventions iv = a.intervene.build(hm);
  ObserverList observers(model->config().n_layers);
  observers.add(iv, iv.mask());
  if (capture.active()) observers.add(capture.observer(), capture.mask());
  const Hooks hooks = observers.mask().any() ? Hooks(observers.mask(), observers) : Hooks();
  KvCache cache = model->new_cache(1, total);
  Tensor logits;
  const auto t0 = std::chrono::steady_clock::now();
  model->forward({prompt, 1, int64_t(prompt.size())}, cache, hooks, logits);
  const double prompt_s = seconds_since(t0);
  const tok::Tokenizer* tok = model->tokenizer();
  std::optional<tok::StreamDecoder> text;
  if (tok && !a.json) {
    text.emplace(*tok);
    // The prompt as the user wrote it: without the BOS token the tokenizer put in front.
    const bool bos = !prompt.empty() && tok->bos() && prompt[0] == *tok->bos();
    std::printf("%s", tok->decode(std::span(prompt).subspan(bos ? 1 : 0)).c_str());
  }
  std::vector<int32_t> out;
  std::vector<int32_t> run_tokens = prompt;  // every token that went through the model
  bool stopped = false;
  const auto t1 = std::chrono::steady_clock::now();
  while (int(out.size()) < a.n) {
    const std::span<const float> row = last_position_logits(logits);
    const int32_t next = sampler.sample(row);
    if (log) analysis::add_generation_step(log->writer(), int64_t(out.size()), row, next, label);
    if (tok && tok->eos() && next == *tok->eos() && !a.ignore_eos) {
      stopped = true;
      break;
    }
    out.push_back(next);
    if (text)
      std::printf("%s", text->push(next).c_str());
    else if (!a.json)
      std::printf("%s%d", out.size() > 1 ? "," : "", next);
    std::fflush(stdout);
    if (int(out.size()) == a.n) break;
    const int32_t ids[1] = {next};
    model->forward({ids, 1, 1}, cache, hooks, logits);
    run_tokens.push_back(next);
  }
  if (text) std::printf("%s", text->finish().c_str());
  capture.finish(run_tokens);
  if (log) {
    const auto file = log->finish();
    std::fprintf(stderr, "glassbox: wrote TensorBoard summaries to %s\n", file.string().c_str());
  }
  const double gen_s = seconds_since(t1);
  const double prompt_tps = double(prompt.size()) / prompt_s, gen_tps = double(out.size()) / gen_s;
  if (a.json) {
    nlohmann::json j = {{"prompt_tokens", prompt},
                        {"tokens", out},
                        {"stopped_at_eos", stopped},
                        {"prompt_tokens_per_s", prompt_tps},
                        {"gen_tokens_per_s", gen_tps}};
    if (tok) {
      j["prompt"] = tok->decode(prompt);
      j["text"] = tok->decode(out);
    }
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("\n");
  }
  std::fflush(stdout);  // the text before the speed line, also when both go to one pipe
  std::fprintf(stderr, "prompt: %zu tokens, %.1f tokens/s; generated: %zu tokens, %.1f tokens/s\n",
               prompt.size(), prompt_tps, out.size(), gen_tps);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt (greedy or sampled)");
  auto args = std::make_shared<GenerateArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  args->intervene.add(cmd);
  cmd->add_option("-n,--tokens-to-generate", args->n, "New tokens (default 32)");
  cmd->add_option("--temperature", args->sampler.temperature, "0 = greedy (default)");
  cmd->add_option("--top-k", args->sampler.top_k, "Sample among the k most likely (0 = all)");
  cmd->add_option("--top-p", args->sampler.top_p, "Nucleus sampling threshold (default 1)");
  cmd->add_option("--seed", args->sampler.seed, "Random seed (default 0)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->add_flag("--ignore-eos", args->ignore_eos, "Keep going past the end-of-text token");
  cmd->add_option("--hooks", args->hooks, "Capture these hooks for every token (see trace --help)");
  cmd->add_option("--trace-out", args->trace_out, "Directory for the captured hooks");
  cmd->add_option("--tensorboard", args->tensorboard,
                  "Write per-token scalars to this TensorBoard log directory (step = token): "
                  "entropy and top-1 probability of the model's distribution, the chosen "
                  "token's probability, and the token as text")
      ->type_name("DIR");
  cmd->add_option(
      "--memory-budget", args->budget,
      "Keep captures in memory up to this size, else stream them to disk (default 256M)");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace gb::cli
