// glassbox run: one forward pass over a prompt; prints the next-token distribution's top k.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"
#include "observe/hooked_model.h"

namespace gb::cli {
namespace {

struct RunArgs {
  ModelArgs model;
  PromptArgs prompt;
  int top_k = 10;
  bool json = false;
};

void run_run(const RunArgs& a) {
  if (a.top_k <= 0) usage_fail("--top-k must be positive");
  HookedModel hm(a.model.load());
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
  cmd->add_option("-k,--top-k", args->top_k, "How many candidates to show (default 10)");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_run(*args); });
}

}  // namespace gb::cli
