// glassbox lens: the logit lens — each layer's residual stream read through the final norm and
// the unembedding; per layer and position the top tokens and a target's probability and rank.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/logit_lens.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "cli/token_args.h"
#include "core/error.h"

namespace gb::cli {
namespace {

struct LensArgs {
  ModelArgs model;
  PromptArgs prompt;
  TokenArg target{"target"};
  int top_k = 3;
  std::string positions;
  bool json = false;
};

// "blocks.3.hook_resid_pre" -> "L3 pre"; the last row -> "L5 post".
std::string row_label(const std::string& hook) {
  const size_t a = hook.find('.') + 1, b = hook.find('.', a);
  const std::string layer = hook.substr(a, b - a);
  return "L" + layer + (hook.ends_with("resid_pre") ? " pre" : " post");
}

std::string prob(double p) {
  return fixed(p, p < 0.0995 ? 3 : 2);
}

// One position: layers down, the top k across, then the target.
void print_position(const analysis::LogitLens& lens, const analysis::TokenLabeler& label) {
  std::vector<std::string> header = {"layer"};
  for (int k = 0; k < int(lens.at(0, 0).top.size()); ++k)
    header.push_back("top " + std::to_string(k + 1));
  if (lens.target) header.insert(header.end(), {"p(target)", "rank"});
  Table t(header);
  for (size_t r = 0; r < lens.rows.size(); ++r) {
    const analysis::LensCell& c = lens.at(r, 0);
    std::vector<std::string> row = {row_label(lens.rows[r])};
    for (const auto& s : c.top) row.push_back(printable(label(s.id)) + " " + prob(s.prob));
    if (c.target) row.insert(row.end(), {prob(c.target->prob), std::to_string(c.target_rank + 1)});
    t.add(row);
  }
  std::printf("%s", t.str().c_str());
}

// Several positions: layers down, positions across; each cell the top-1 token and probability.
void print_grid(const analysis::LogitLens& lens, const analysis::TokenLabeler& label, bool target) {
  std::vector<std::string> header = {"layer"};
  for (int64_t p : lens.positions)
    header.push_back(std::to_string(p) + ":" + printable(label(lens.tokens[size_t(p)])));
  Table t(header);
  for (size_t r = 0; r < lens.rows.size(); ++r) {
    std::vector<std::string> row = {row_label(lens.rows[r])};
    for (size_t p = 0; p < lens.positions.size(); ++p) {
      const analysis::LensCell& c = lens.at(r, p);
      row.push_back(target ? prob(c.target->prob) + " #" + std::to_string(c.target_rank + 1)
                           : printable(label(c.top[0].id)) + " " + prob(c.top[0].prob));
    }
    t.add(row);
  }
  std::printf("%s", t.str().c_str());
}

void run_lens(const LensArgs& a) {
  HookedModel hm(a.model.load());
  const Model& m = hm.model();
  const std::vector<int32_t> ids = a.prompt.ids(m);
  analysis::LensOptions o{.top_k = a.top_k, .target = a.target.resolve(m), .positions = {}};
  if (!a.positions.empty())
    for (int32_t p : parse_int_list(a.positions, "--pos")) o.positions.push_back(p);
  const analysis::LogitLens lens = analysis::logit_lens(hm, ids, o);
  const analysis::TokenLabeler label = analysis::model_labeler(m);
  if (a.json) {
    std::printf("%s\n", analysis::to_json(lens, label).dump(2).c_str());
    return;
  }
  std::printf(
      "logit lens: %zu tokens, residual stream before each block and after the last, "
      "read through the final norm and unembedding\n",
      ids.size());
  if (lens.positions.size() == 1) {
    const int64_t p = lens.positions[0];
    std::printf("position %lld (%s), next-token top %d:\n", (long long)p,
                printable(label(ids[size_t(p)])).c_str(), a.top_k);
    print_position(lens, label);
    return;
  }
  std::printf("top-1 next token and its probability:\n");
  print_grid(lens, label, false);
  if (lens.target) {
    std::printf("\ntarget %s: probability #rank:\n", printable(label(*lens.target)).c_str());
    print_grid(lens, label, true);
  }
}

}  // namespace

void add_lens_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("lens", "Logit lens: what each layer's residual stream predicts");
  auto args = std::make_shared<LensArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  args->target.add(cmd, "Token to follow through the layers");
  cmd->add_option("-k,--top-k", args->top_k, "Top tokens per cell (default 3)");
  cmd->add_option("--pos", args->positions,
                  "Positions to show, e.g. -1 or 0,3,-1 (negative from the end; default all)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_lens(*args); });
}

}  // namespace gb::cli
