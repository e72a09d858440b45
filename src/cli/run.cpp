// glassbox run: one forward pass over a prompt; prints the next-token distribution's top k.
// Encoder-decoder models: one forward pass over --src/--tgt arrays; writes the output as .npy.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"
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
  Seq2SeqArgs seq2seq;
  std::string out;  // encoder-decoder models: the output .npy
  int top_k = 10;
  bool json = false;
};

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
  const Tensor logits = hm.run(ids);
  const int64_t vocab = logits.shape()[2];
  const float* last = logits.data() + (int64_t(ids.size()) - 1) * vocab;
  // softmax of the last position
  const float mx = *std::max_element(last, last + vocab);
  double sum = 0;
  for (int64_t i = 0; i < vocab; ++i) sum += std::exp(double(last[i] - mx));
  std::vector<int32_t> order(static_cast<size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(size_t(a.top_k), order.size());
  std::partial_sort(order.begin(), order.begin() + long(k), order.end(),
                    [&](int32_t x, int32_t y) { return last[x] > last[y]; });
  if (a.json) {
    nlohmann::json j = {{"tokens", ids}, {"top", nlohmann::json::array()}};
    for (size_t r = 0; r < k; ++r) {
      const int32_t id = order[r];
      j["top"].push_back({{"id", id},
                          {"token", token_label(hm.model(), id)},
                          {"logit", last[id]},
                          {"prob", std::exp(double(last[id] - mx)) / sum}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%zu prompt tokens; next-token top %zu:\n", ids.size(), k);
  Table t({"rank", "id", "token", "logit", "prob"});
  for (size_t r = 0; r < k; ++r) {
    const int32_t id = order[r];
    t.add({std::to_string(r + 1), std::to_string(id), printable(token_label(hm.model(), id)),
           fixed(last[id], 3), fixed(std::exp(double(last[id] - mx)) / sum, 4)});
  }
  std::printf("%s", t.str({0, 1, 3, 4}).c_str());
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run a prompt and show the next-token top-k");
  auto args = std::make_shared<RunArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  args->seq2seq.add(cmd);
  cmd->add_option("-o,--out", args->out,
                  "Encoder-decoder models: write the output here (.npy, in the inputs' layout)");
  cmd->add_option("-k,--top-k", args->top_k, "How many candidates to show (default 10)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace gb::cli
