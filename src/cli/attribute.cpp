// glassbox attribute: direct logit attribution — what every head, MLP and embedding writes into
// one logit (or logit difference) at one position, with the final norm's scale frozen.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis/logit_attribution.h"
#include "analysis/logit_lens.h"
#include "analysis/readout.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "cli/token_args.h"
#include "core/error.h"

namespace gb::cli {
namespace {

struct AttributeArgs {
  ModelArgs model;
  PromptArgs prompt;
  TokenArg target{"target"};
  TokenArg contrast{"contrast"};
  int64_t position = -1;
  int top = 15;
  bool json = false;
};

std::string signed_fixed(double v) {
  return (v >= 0 ? "+" : "") + fixed(v, 4);
}

void print_attribution(const analysis::Attribution& a, const analysis::TokenLabeler& label,
                       int top) {
  const std::string what = a.contrast ? "logit[" + printable(label(a.target)) + "] - logit[" +
                                            printable(label(*a.contrast)) + "]"
                                      : "logit[" + printable(label(a.target)) + "]";
  std::printf("direct logit attribution of %s at position %lld (%s)\n", what.c_str(),
              (long long)a.position, printable(label(a.tokens[size_t(a.position)])).c_str());
  std::printf("final norm (%s) scale frozen at %.6g\n\n", a.centred ? "LayerNorm" : "RMSNorm",
              a.norm_scale);
  std::vector<analysis::Part> parts = a.components;
  std::stable_sort(parts.begin(), parts.end(), [](const auto& x, const auto& y) {
    return std::fabs(x.value) > std::fabs(y.value);
  });
  const size_t n = std::min(parts.size(), size_t(std::max(top, 0)));
  std::printf("largest %zu of %zu components:\n", n, parts.size());
  Table t({"component", "contribution"});
  for (size_t i = 0; i < n; ++i) t.add({parts[i].name, signed_fixed(parts[i].value)});
  std::printf("%s\n", t.str({1}).c_str());

  // Per layer: all heads together, and the MLP.
  std::map<int, std::pair<double, double>> layers;
  for (const auto& p : a.components) {
    if (p.kind == analysis::PartKind::Head) layers[p.layer].first += p.value;
    if (p.kind == analysis::PartKind::Mlp) layers[p.layer].second += p.value;
  }
  Table lt({"layer", "heads", "mlp"});
  for (const auto& [L, v] : layers)
    lt.add({std::to_string(L), signed_fixed(v.first), signed_fixed(v.second)});
  std::printf("per layer:\n%s\n", lt.str({1, 2}).c_str());

  double embed = 0, attn_bias = 0, norm_bias = 0, centring = 0, comps = 0;
  for (const auto& p : a.components) {
    comps += p.value;
    centring += p.centring;
    if (p.kind == analysis::PartKind::Embed || p.kind == analysis::PartKind::PosEmbed)
      embed += p.value;
  }
  for (const auto& p : a.terms) {
    (p.kind == analysis::PartKind::AttnBias ? attn_bias : norm_bias) += p.value;
    centring += p.centring;
  }
  Table s({"", "value"});
  s.add({"components (heads, MLPs, embeddings)", signed_fixed(comps)});
  s.add({"  of which embeddings", signed_fixed(embed)});
  s.add({"attention output biases (all layers)", signed_fixed(attn_bias)});
  s.add({"final norm bias", signed_fixed(norm_bias)});
  s.add({"sum", signed_fixed(a.total())});
  s.add({"model's " + what, signed_fixed(a.actual)});
  if (a.centred) s.add({"(LayerNorm centring, included above)", signed_fixed(centring)});
  std::printf("%s", s.str({1}).c_str());
}

void run_attribute(const AttributeArgs& a) {
  HookedModel hm(a.model.load());
  const Model& m = hm.model();
  const std::vector<int32_t> ids = a.prompt.ids(m);
  analysis::AttributionOptions o{
      .position = a.position, .target = -1, .contrast = a.contrast.resolve(m)};
  if (const auto t = a.target.resolve(m)) {
    o.target = *t;
  } else {  // the model's own prediction at that position
    const Tensor logits = hm.run(ids);
    const int64_t p = analysis::resolve_positions({a.position}, int64_t(ids.size()), "--pos")[0];
    const int64_t v = logits.shape()[2];
    o.target =
        analysis::summarize_logits({logits.data() + p * v, size_t(v)}, 1, std::nullopt).top[0].id;
    if (!a.json)
      std::fprintf(stderr, "glassbox: no --target given; explaining the model's top-1 token\n");
  }
  const analysis::Attribution attr = analysis::attribute_logit(hm, ids, o);
  const analysis::TokenLabeler label = analysis::model_labeler(m);
  if (a.json) {
    std::printf("%s\n", analysis::to_json(attr, label).dump(2).c_str());
    return;
  }
  print_attribution(attr, label, a.top);
}

}  // namespace

void add_attribute_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "attribute", "Direct logit attribution: each head's and MLP's share of a logit");
  auto args = std::make_shared<AttributeArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  args->target.add(cmd, "Token whose logit to explain (default: the model's top-1)");
  args->contrast.add(cmd, "Explain logit[target] - logit[contrast]");
  cmd->add_option("--pos", args->position, "Position (negative from the end; default -1)");
  cmd->add_option("--top", args->top, "Components to list (default 15)");
  cmd->add_flag("--json", args->json, "Print JSON (every component)");
  cmd->callback([args] { run_attribute(*args); });
}

}  // namespace gb::cli
