// glassbox heads: attention head scores — previous-token, duplicate-token and induction heads on
// repeated random tokens; entropy, attention sink and distance on the prompt.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "analysis/head_scores.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gb::cli {
namespace {

struct HeadsArgs {
  ModelArgs model;
  PromptArgs prompt;
  int64_t repeat_len = 0;
  int sequences = 4;
  uint64_t seed = 0;
  int top = 5;
  bool json = false;
};

void print_scores(const analysis::HeadScores& s, int top) {
  using analysis::HeadScore;
  const int n = std::min(top, s.n_layers * s.n_heads);
  std::vector<std::string> header = {"score"};
  for (int i = 0; i < n; ++i) header.push_back("#" + std::to_string(i + 1));
  Table t(header);
  for (int k = 0; k < analysis::kHeadScoreCount; ++k) {
    const HeadScore hs = HeadScore(k);
    std::vector<std::string> row = {analysis::head_score_name(hs)};
    const auto ranked = s.ranked(hs);
    for (int i = 0; i < n; ++i) {
      const auto& h = ranked[size_t(i)];
      row.push_back("L" + std::to_string(h.layer) + "H" + std::to_string(h.head) + " " +
                    fixed(h.score, hs == HeadScore::Distance || hs == HeadScore::Entropy ? 2 : 3));
    }
    t.add(row);
  }
  std::printf("%s", t.str().c_str());
}

void run_heads(const HeadsArgs& a) {
  HookedModel hm(a.model.load());
  const Model& m = hm.model();
  analysis::HeadScoreOptions o{.repeat_len = a.repeat_len,
                               .n_sequences = a.sequences,
                               .seed = a.seed,
                               .bos = std::nullopt,
                               .prompt = {}};
  if (analysis::default_bos(m)) o.bos = m.tokenizer()->bos();  // as the model's prompts start
  if (!a.prompt.text.empty() || !a.prompt.tokens.empty()) o.prompt = a.prompt.ids(m);
  const analysis::HeadScores s = analysis::head_scores(hm, o);
  if (a.json) {
    std::printf("%s\n", analysis::to_json(s, analysis::model_labeler(m)).dump(2).c_str());
    return;
  }
  const size_t len = s.sequences[0].size();
  std::printf(
      "%d layers x %d heads; prev_token, duplicate, induction on %zu sequences of %zu random "
      "tokens (repeated twice); entropy, sink, distance on %s\n",
      s.n_layers, s.n_heads, s.sequences.size(), len / 2,
      s.prompt.empty() ? "the same sequences"
                       : ("the prompt (" + std::to_string(s.prompt.size()) + " tokens)").c_str());
  std::printf("highest first (entropy: lowest first, nats; distance in positions):\n");
  print_scores(s, a.top);
}

}  // namespace

void add_heads_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("heads", "Attention head scores: induction, previous-token, ...");
  auto args = std::make_shared<HeadsArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  cmd->add_option("--repeat-len", args->repeat_len,
                  "Random tokens per repeat (default: min(32, (context - 1) / 2))");
  cmd->add_option("--sequences", args->sequences, "Random sequences to average over (default 4)");
  cmd->add_option("--seed", args->seed, "Seed of the random tokens (default 0)");
  cmd->add_option("--top", args->top, "Heads listed per score (default 5)");
  cmd->add_flag("--json", args->json, "Print JSON (every head's scores and the sequences used)");
  cmd->callback([args] { run_heads(*args); });
}

}  // namespace gb::cli
