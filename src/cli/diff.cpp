// glassbox diff: the same tokens through two models, or one model on two prompts, compared hook
// by hook; where the runs first diverge, and how far apart their outputs are.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/run_diff.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"

namespace gb::cli {
namespace {

struct DiffArgs {
  std::vector<std::string> models;
  int threads = 0;
  PromptArgs prompt;
  PromptArgs prompt2;
  std::vector<std::string> hooks;
  double threshold = 0.1;
  bool all = false;
  bool json = false;
};

std::unique_ptr<Model> load(const std::string& path, int threads) {
  return ModelArgs{.path = path, .threads = threads}.load();
}

void print_diff(const analysis::RunDiff& d, bool all, const analysis::TokenLabeler& label) {
  Table t({"hook", "rel error", "cosine", "max abs diff", ""});
  for (size_t i = 0; i < d.hooks.size(); ++i) {
    const auto& h = d.hooks[i];
    const bool shown = all || h.site == HookSite::ResidPost || h.site == HookSite::Embed ||
                       h.site == HookSite::Logits || d.first_hook == i;
    if (!shown) continue;
    std::string note = d.first_hook == i ? "<- first above threshold" : "";
    if (h.nonfinite_a || h.nonfinite_b)
      note += cat(note.empty() ? "" : "; ", "non-finite: ", h.nonfinite_a, " / ", h.nonfinite_b);
    t.add({h.name, fixed(h.rel_error, 6), fixed(h.cosine, 6), fixed(h.max_abs, 6), note});
  }
  std::printf("%s\n", t.str({1, 2, 3}).c_str());
  std::printf("threshold (relative error): %g\n", d.threshold);
  std::printf("first hook above it:  %s\n",
              d.first_hook ? d.hooks[*d.first_hook].name.c_str() : "none");
  std::printf("first layer above it: %s\n",
              d.first_layer ? std::to_string(*d.first_layer).c_str() : "none");
  std::printf("next-token KL(A||B):  mean %.6g, max %.6g nats over %zu positions\n", d.kl_mean,
              d.kl_max, d.kl.size());
  std::printf("top-1 agreement:      %.1f%% (last position: %s vs %s)\n", 100 * d.top1_agreement,
              printable(label(d.top1_a.back())).c_str(), printable(label(d.top1_b.back())).c_str());
}

void run_diff(const DiffArgs& a) {
  if (a.models.empty() || a.models.size() > 2) usage_fail("give one or two models");
  const bool two_prompts = !a.prompt2.text.empty() || !a.prompt2.tokens.empty();
  if (a.models.size() == 1 && !two_prompts)
    usage_fail("with one model, give a second prompt (--prompt2 / --tokens2) to compare with");
  HookedModel ma(load(a.models[0], a.threads));
  std::unique_ptr<HookedModel> mb;
  if (a.models.size() == 2) {
    mb = std::make_unique<HookedModel>(load(a.models[1], a.threads));
    analysis::check_comparable(ma.model(), mb->model());
  }
  HookedModel& b = mb ? *mb : ma;
  const std::vector<int32_t> ta = a.prompt.ids(ma.model());
  const std::vector<int32_t> tb = two_prompts ? a.prompt2.ids(ma.model()) : ta;
  std::string filter;
  for (const auto& h : a.hooks) filter += (filter.empty() ? "" : ",") + h;
  const analysis::RunDiff d =
      analysis::diff_runs(ma, ta, b, tb, {.hooks = filter, .threshold = a.threshold});
  const analysis::TokenLabeler label = analysis::model_labeler(ma.model());
  if (a.json) {
    nlohmann::json j = analysis::to_json(d, label);
    j["model_a"] = a.models[0];
    j["model_b"] = a.models.back();
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("A: %s%s\nB: %s%s\n", a.models[0].c_str(), two_prompts ? " (prompt 1)" : "",
              a.models.back().c_str(), two_prompts ? " (prompt 2)" : "");
  std::printf("%zu tokens, %zu hooks compared%s\n\n", ta.size(), d.hooks.size(),
              a.all ? "" : " (showing embeddings, every resid_post and the logits; --all for all)");
  print_diff(d, a.all, label);
}

}  // namespace

void add_diff_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "diff", "Compare two models (or two prompts) hook by hook: where do they diverge?");
  auto args = std::make_shared<DiffArgs>();
  cmd->add_option("models", args->models, "Model A (the reference) and model B")->required();
  cmd->add_option("-t,--threads", args->threads, "Threads (default: one per core)");
  cmd->add_option("-p,--prompt", args->prompt.text, "Prompt text");
  cmd->add_option("--tokens", args->prompt.tokens, "Prompt as token ids, e.g. 1,2,3");
  cmd->add_flag("--bos", args->prompt.bos, "Put the BOS token in front of the prompt text");
  cmd->add_option("--prompt2", args->prompt2.text, "Second prompt (for B) as text");
  cmd->add_option("--tokens2", args->prompt2.tokens, "Second prompt (for B) as token ids");
  cmd->add_option("--hooks", args->hooks, "Hook filter (default: every hook but attn.hook_result)");
  cmd->add_option("--threshold", args->threshold,
                  "Relative error that counts as diverged (default 0.1)");
  cmd->add_flag("--all", args->all, "Show every hook compared");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_diff(*args); });
}

}  // namespace gb::cli
