// glassbox patch: activation patching. Cache a clean run, patch chosen hooks (whole, per
// position, or per head) into a corrupted run, and report how much of the clean behaviour each
// patch restores, measured on a logit or a logit difference at the last position.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interventions_args.h"
#include "cli/table.h"
#include "core/error.h"
#include "observe/hooked_model.h"
#include "observe/interventions.h"

namespace gb::cli {
namespace {

struct PatchArgs {
  ModelArgs model;
  std::string clean, corrupt;
  std::vector<std::string> hooks;
  std::string target, versus;
  bool per_position = false, per_head = false, json = false;
};

// One patch to try: a selection and how it is labelled.
struct Trial {
  HookSelection sel;
  int64_t pos = -1, head = -1;
};

std::vector<Trial> trials(const HookPlan& plan, const ModelConfig& c, int64_t n_pos, bool per_pos,
                          bool per_head) {
  std::vector<Trial> out;
  for (const HookSelection& s : plan.selections()) {
    const bool has_head = slice_axis_index(s.point.site, SliceAxis::Head) >= 0;
    const int heads = !per_head || !has_head ? 1
                      : s.point.site == HookSite::K || s.point.site == HookSite::V ||
                              s.point.site == HookSite::RotK
                          ? c.n_kv_heads
                          : c.n_heads;
    const int64_t positions =
        per_pos && slice_axis_index(s.point.site, SliceAxis::Pos) >= 0 ? n_pos : 1;
    for (int64_t p = 0; p < positions; ++p)
      for (int h = 0; h < heads; ++h) {
        Trial t{s, -1, -1};
        if (positions > 1) {
          t.pos = p;
          t.sel.slices.push_back({SliceAxis::Pos, IndexSpec::parse(std::to_string(p))});
        }
        if (per_head && has_head) {
          t.head = h;
          t.sel.slices.push_back({SliceAxis::Head, IndexSpec::parse(std::to_string(h))});
        }
        out.push_back(t);
      }
  }
  return out;
}

void run_patch(const PatchArgs& a) {
  HookedModel hm(a.model.load());
  const Model& m = hm.model();
  const tok::Tokenizer* tok = m.tokenizer();
  if (!tok) usage_fail(m.path(), ": patching prompts needs a tokenizer");
  PromptArgs pc{.text = a.clean}, pk{.text = a.corrupt};
  const auto clean_ids = pc.ids(m), corrupt_ids = pk.ids(m);
  if (clean_ids.size() != corrupt_ids.size())
    usage_fail("--clean is ", clean_ids.size(), " tokens and --corrupt ", corrupt_ids.size(),
               "; patching needs prompts of the same length");
  const int32_t target = resolve_token(m, a.target, "--target");
  const int32_t versus = a.versus.empty() ? -1 : resolve_token(m, a.versus, "--versus");
  auto metric = [&](const Tensor& logits) {
    const auto row = last_position_logits(logits);
    return double(row[size_t(target)]) - (versus >= 0 ? double(row[size_t(versus)]) : 0.0);
  };
  std::string filter;
  for (const auto& h : a.hooks) filter += (filter.empty() ? "" : ",") + h;
  auto plan = hm.plan(filter);
  for (const HookSelection& s : plan->selections())
    if (s.sliced()) usage_fail("patch: give hooks without slices; use --per-position / --per-head");
  auto [clean_logits, clean_cache] = hm.run_with_cache(clean_ids, filter);
  const double clean = metric(clean_logits), corrupt = metric(hm.run(corrupt_ids));
  const std::string what = versus >= 0 ? "logit('" + a.target + "') - logit('" + a.versus + "')"
                                       : "logit('" + a.target + "')";
  nlohmann::json j = {{"metric", what},
                      {"clean", clean},
                      {"corrupt", corrupt},
                      {"patches", nlohmann::json::array()}};
  Table t({"hook", "pos", "head", "patched", "restored"});
  for (const Trial& tr :
       trials(*plan, m.config(), int64_t(clean_ids.size()), a.per_position, a.per_head)) {
    Interventions iv(m.config().n_layers);
    iv.patch(tr.sel, clean_cache[tr.sel.name]);
    const double patched = metric(hm.run_observed(corrupt_ids, iv.mask(), iv));
    const double restored = clean != corrupt ? (patched - corrupt) / (clean - corrupt) : 0.0;
    const std::string pos = tr.pos < 0
                                ? "all"
                                : std::to_string(tr.pos) + " '" +
                                      printable(token_label(m, corrupt_ids[size_t(tr.pos)])) + "'";
    t.add({tr.sel.name, pos, tr.head < 0 ? "all" : std::to_string(tr.head), fixed(patched, 3),
           fixed(restored, 3)});
    j["patches"].push_back({{"hook", tr.sel.name},
                            {"pos", tr.pos},
                            {"head", tr.head},
                            {"metric", patched},
                            {"restored", restored}});
  }
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf(
      "metric %s: clean %.3f, corrupt %.3f\n"
      "restored = (patched - corrupt) / (clean - corrupt)\n%s",
      what.c_str(), clean, corrupt, t.str({3, 4}).c_str());
}

}  // namespace

void add_patch_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("patch", "Activation patching: clean activations into a corrupted run");
  auto args = std::make_shared<PatchArgs>();
  args->model.add(cmd);
  cmd->add_option("--clean", args->clean, "The clean prompt")->required();
  cmd->add_option("--corrupt", args->corrupt, "The corrupted prompt (same number of tokens)")
      ->required();
  cmd->add_option("--hooks", args->hooks, "Hooks to patch, e.g. 'blocks.*.hook_resid_pre'")
      ->required();
  cmd->add_option("--target", args->target, "Token whose logit is the metric (text, or #id)")
      ->required();
  cmd->add_option("--versus", args->versus, "Metric is logit(target) - logit(versus)");
  cmd->add_flag("--per-position", args->per_position, "Patch each position separately");
  cmd->add_flag("--per-head", args->per_head,
                "Patch each head separately (hooks with a head axis)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_patch(*args); });
}

}  // namespace gb::cli
