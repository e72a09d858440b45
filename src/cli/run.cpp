// glassbox run: one forward pass over a prompt; prints the next-token distribution's top k.
// With interventions (--ablate, --mean-ablate, --steer), the intervened distribution beside the
// clean one.
// Encoder-decoder models: one forward pass over --src/--tgt arrays; writes the output as .npy.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/interventions_args.h"
#include "cli/seq2seq_args.h"
#include "cli/table.h"
#include "core/error.h"
#include "io/npy.h"
#include "observe/hooked_model.h"

namespace gb::cli {
namespace {

struct RunArgs {
  ModelArgs model;
  PromptArgs prompt;
  InterventionArgs intervene;
  Seq2SeqArgs seq2seq;
  std::string out;  // encoder-decoder models: the output .npy
  int top_k = 10;
  bool json = false;
};

// log-softmax of one row of logits.
std::vector<double> log_probs(std::span<const float> logits) {
  const float mx = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float x : logits) sum += std::exp(double(x - mx));
  const double lse = double(mx) + std::log(sum);
  std::vector<double> lp(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) lp[i] = double(logits[i]) - lse;
  return lp;
}

std::vector<int32_t> top(const std::vector<double>& lp, size_t k) {
  std::vector<int32_t> order(lp.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                    [&](int32_t x, int32_t y) { return lp[size_t(x)] > lp[size_t(y)]; });
  order.resize(k);
  return order;
}

// nn.Transformer(src, tgt, masks...) -> the output array, in the inputs' layout.
void run_seq2seq(const RunArgs& a, Seq2SeqModel& model) {
  if (!a.prompt.text.empty() || !a.prompt.tokens.empty())
    usage_fail(model.path(), " is an encoder-decoder model: give --src and --tgt, not a prompt");
  if (a.out.empty()) usage_fail("give -o OUT.npy for the encoder-decoder model's output");
  const Seq2SeqInputs in = a.seq2seq.load(model);
  const Tensor out = model.forward(in);
  io::write_npy(a.out, out.data(), out.shape().to_vector());
  std::printf("output %s %s -> %s\n", out.shape().str().c_str(),
              in.batch_first ? "[batch, tgt_len, d_model]" : "[tgt_len, batch, d_model]",
              a.out.c_str());
}

void run_run(const RunArgs& a) {
  if (a.top_k <= 0) usage_fail("--top-k must be positive");
  HookedModel hm(a.model.load());
  if (auto* s2s = dynamic_cast<Seq2SeqModel*>(&hm.model())) return run_seq2seq(a, *s2s);
  reject_seq2seq_args(hm.model(), a.seq2seq);
  if (!a.out.empty()) usage_fail("-o is for encoder-decoder models' outputs");
  const std::vector<int32_t> ids = a.prompt.ids(hm.model());
  const Tensor clean_logits = hm.run(ids);
  const auto clean = log_probs(last_position_logits(clean_logits));
  std::vector<double> changed;
  if (a.intervene.any()) {
    Interventions iv = a.intervene.build(hm);
    changed = log_probs(last_position_logits(hm.run_observed(ids, iv.mask(), iv)));
  }
  const std::vector<double>& shown = changed.empty() ? clean : changed;
  const auto order = top(shown, size_t(a.top_k));
  if (a.json) {
    nlohmann::json j = {{"tokens", ids}, {"top", nlohmann::json::array()}};
    for (int32_t id : order) {
      nlohmann::json row = {{"id", id},
                            {"token", token_label(hm.model(), id)},
                            {"prob", std::exp(shown[size_t(id)])}};
      if (!changed.empty()) row["clean_prob"] = std::exp(clean[size_t(id)]);
      j["top"].push_back(row);
    }
    if (!changed.empty()) {
      double kl = 0;  // KL(clean || intervened)
      for (size_t i = 0; i < clean.size(); ++i) kl += std::exp(clean[i]) * (clean[i] - changed[i]);
      j["kl_clean_to_intervened"] = kl;
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%zu prompt tokens; next-token top %zu%s:\n", ids.size(), order.size(),
              changed.empty() ? "" : " with the interventions");
  Table t(changed.empty()
              ? std::vector<std::string>{"rank", "id", "token", "prob"}
              : std::vector<std::string>{"rank", "id", "token", "prob", "clean prob", "change"});
  for (size_t r = 0; r < order.size(); ++r) {
    const int32_t id = order[r];
    std::vector<std::string> row = {std::to_string(r + 1), std::to_string(id),
                                    "'" + printable(token_label(hm.model(), id)) + "'",
                                    fixed(std::exp(shown[size_t(id)]), 4)};
    if (!changed.empty()) {
      row.push_back(fixed(std::exp(clean[size_t(id)]), 4));
      const double d = std::exp(changed[size_t(id)]) - std::exp(clean[size_t(id)]);
      row.push_back((d >= 0 ? "+" : "") + fixed(d, 4));
    }
    t.add(row);
  }
  std::printf("%s", t.str({0, 1, 3, 4, 5}).c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run", "Run a prompt and show the next-token top-k (optionally with interventions)");
  auto args = std::make_shared<RunArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  args->intervene.add(cmd);
  args->seq2seq.add(cmd);
  cmd->add_option("-o,--out", args->out,
                  "Encoder-decoder models: write the output here (.npy, in the inputs' layout)");
  cmd->add_option("-k,--top-k", args->top_k, "How many candidates to show (default 10)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace gb::cli
