// glassbox generate: continue a prompt token by token through the KV cache.
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "model/sampler.h"

namespace gb::cli {
namespace {

struct GenerateArgs {
  ModelArgs model;
  PromptArgs prompt;
  int n = 32;
  SamplerOptions sampler;
  bool json = false;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void run_generate(const GenerateArgs& a) {
  if (a.n <= 0) usage_fail("-n must be positive");
  auto model = a.model.load();
  const std::vector<int32_t> prompt = a.prompt.ids(*model);
  const int64_t total = int64_t(prompt.size()) + a.n;
  if (total > model->config().n_ctx)
    usage_fail("prompt of ", prompt.size(), " tokens plus ", a.n,
               " new ones exceeds the model's context of ", model->config().n_ctx);
  Sampler sampler(a.sampler);
  KvCache cache = model->new_cache(1, total);
  Tensor logits;
  const auto t0 = std::chrono::steady_clock::now();
  model->forward({prompt, 1, int64_t(prompt.size())}, cache, Hooks(), logits);
  const double prompt_s = seconds_since(t0);
  std::vector<int32_t> out;
  const auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < a.n; ++i) {
    const int32_t next = sampler.sample(logits.values());
    out.push_back(next);
    if (!a.json) {
      std::printf("%s%s", out.size() > 1 ? "," : "", std::to_string(next).c_str());
      std::fflush(stdout);
    }
    if (i + 1 == a.n) break;
    const int32_t ids[1] = {next};
    model->forward({ids, 1, 1}, cache, Hooks(), logits);
  }
  const double gen_s = seconds_since(t1);
  const double prompt_tps = double(prompt.size()) / prompt_s, gen_tps = double(out.size()) / gen_s;
  if (a.json) {
    nlohmann::json j = {{"prompt_tokens", prompt},
                        {"tokens", out},
                        {"prompt_tokens_per_s", prompt_tps},
                        {"gen_tokens_per_s", gen_tps}};
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("\n");
  }
  std::fprintf(stderr, "prompt: %zu tokens, %.1f tokens/s; generated: %zu tokens, %.1f tokens/s\n",
               prompt.size(), prompt_tps, out.size(), gen_tps);
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Continue a prompt (greedy or sampled)");
  auto args = std::make_shared<GenerateArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  cmd->add_option("-n,--tokens-to-generate", args->n, "New tokens (default 32)");
  cmd->add_option("--temperature", args->sampler.temperature, "0 = greedy (default)");
  cmd->add_option("--top-k", args->sampler.top_k, "Sample among the k most likely (0 = all)");
  cmd->add_option("--top-p", args->sampler.top_p, "Nucleus sampling threshold (default 1)");
  cmd->add_option("--seed", args->sampler.seed, "Random seed (default 0)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace gb::cli
