// glassbox diagnose: check every hook for NaN / Inf and name where the first one appeared and
// the finite inputs that produced it.
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/nan_origin.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"

namespace gb::cli {
namespace {

struct DiagnoseArgs {
  ModelArgs model;
  PromptArgs prompt;
  bool json = false;
};

std::string value_text(float v) {
  return std::isnan(v) ? "nan" : v > 0 ? "+inf" : "-inf";
}

void print_diagnosis(const analysis::Diagnosis& d, const analysis::TokenLabeler& label) {
  if (!d.first) {
    std::printf("checked %lld hooks over %zu tokens: every value is finite\n",
                (long long)d.hooks_checked, d.tokens.size());
    return;
  }
  const auto& f = *d.first;
  std::printf("first non-finite value: %s = %s\n", f.hook.c_str(), value_text(f.value).c_str());
  std::printf("  layer %s, position %lld (%s), %s\n",
              f.layer < 0 ? "- (model level)" : std::to_string(f.layer).c_str(),
              (long long)f.position, printable(label(d.tokens[size_t(f.position)])).c_str(),
              f.channel_desc.c_str());
  std::printf("\nwhat produced it:\n");
  Table t({"input", "where", "finite", "nan", "inf", "first bad", "min", "max", "abs max"});
  for (const auto& s : d.inputs)
    t.add({s.what, s.where, s.finite() ? "yes" : "NO", std::to_string(s.nan), std::to_string(s.inf),
           s.first_nonfinite < 0 ? "-" : std::to_string(s.first_nonfinite), fixed(s.min, 4),
           fixed(s.max, 4), fixed(s.abs_max, 4)});
  std::printf("%s", t.str({3, 4, 5, 6, 7, 8}).c_str());
  std::printf("\n%zu of %lld hooks hold non-finite values%s:\n", d.nonfinite_hooks.size(),
              (long long)d.hooks_checked, d.logits_finite ? "" : ", the logits among them");
  Table h({"hook", "nan", "inf"});
  for (size_t i = 0; i < d.nonfinite_hooks.size() && i < 12; ++i)
    h.add({d.nonfinite_hooks[i].hook, std::to_string(d.nonfinite_hooks[i].nan),
           std::to_string(d.nonfinite_hooks[i].inf)});
  std::printf("%s", h.str({1, 2}).c_str());
  if (d.nonfinite_hooks.size() > 12)
    std::printf("... and %zu more\n", d.nonfinite_hooks.size() - 12);
}

void run_diagnose(const DiagnoseArgs& a) {
  HookedModel hm(a.model.load());
  const std::vector<int32_t> ids = a.prompt.ids(hm.model());
  const analysis::Diagnosis d = analysis::diagnose(hm, ids);
  const analysis::TokenLabeler label = analysis::model_labeler(hm.model());
  if (a.json)
    std::printf("%s\n", analysis::to_json(d, label).dump(2).c_str());
  else
    print_diagnosis(d, label);
}

}  // namespace

void add_diagnose_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("diagnose", "Find where the first NaN / Inf appears, and why");
  auto args = std::make_shared<DiagnoseArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_diagnose(*args); });
}

}  // namespace gb::cli
