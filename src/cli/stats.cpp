// glassbox stats: streaming activation statistics over a prompt or a corpus; dead MLP neurons,
// massive activation channels, top activating contexts; JSON, .npy and TensorBoard output.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/activation_stats.h"
#include "analysis/corpus.h"
#include "analysis/observation_summaries.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "core/error.h"
#include "export/run_log.h"

namespace gb::cli {
namespace {

struct StatsArgs {
  ModelArgs model;
  PromptArgs prompt;
  std::string corpus;
  int64_t max_docs = 0;
  std::vector<std::string> hooks;
  std::vector<std::string> neurons;
  analysis::StatsOptions options{.batch = 8};
  std::string out;
  std::string tensorboard;
  bool json = false;
};

std::string num(double v) {
  const double a = std::fabs(v);
  char buf[32];
  std::snprintf(buf, sizeof buf, (a != 0 && (a < 1e-3 || a >= 1e5)) ? "%.3e" : "%.4f", v);
  return buf;
}

void print_hooks(const nlohmann::json& j) {
  Table t({"hook", "count", "mean", "std", "min", "max", "abs max", "zero %", "nan", "inf"});
  for (const auto& h : j["hooks"]) {
    const bool any = h["count"].get<int64_t>() > 0;
    auto f = [&](const char* k) { return any ? num(h[k].get<double>()) : std::string("-"); };
    t.add({h["name"].get<std::string>(), human_count(double(h["count"].get<int64_t>())), f("mean"),
           f("std"), f("min"), f("max"), f("abs_max"),
           any ? fixed(100 * h["zero_fraction"].get<double>(), 1) : "-",
           std::to_string(h["nan"].get<int64_t>()), std::to_string(h["inf"].get<int64_t>())});
  }
  std::printf("%s", t.str({1, 2, 3, 4, 5, 6, 7, 8, 9}).c_str());
}

std::string index_list(const std::vector<int64_t>& v, size_t max) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? "," : "") + std::to_string(v[i]);
  if (v.size() > max) s += ",... (" + std::to_string(v.size()) + ")";
  return s.empty() ? "-" : s;
}

void print_findings(const analysis::ActivationStats& s, const analysis::TokenLabeler& label) {
  const auto activity = s.neuron_activity();
  if (!activity.empty()) {
    std::printf("\nMLP neurons (fire: mlp.hook_pre > %g; rare: in < %g of positions):\n",
                s.options().fire_threshold, s.options().rare_fraction);
    Table t({"layer", "neurons", "dead", "rare", "dead ids", "rare ids"});
    for (const auto& a : activity)
      t.add({std::to_string(a.layer), std::to_string(a.neurons), std::to_string(a.dead.size()),
             std::to_string(a.rare.size()), index_list(a.dead, 12), index_list(a.rare, 12)});
    std::printf("%s", t.str({1, 2, 3}).c_str());
  }
  auto massive = s.massive_channels();
  std::stable_sort(massive.begin(), massive.end(),
                   [](const auto& x, const auto& y) { return x.ratio > y.ratio; });
  std::printf("\nmassive activation channels (abs max > %g x the hook's median |x|): %zu\n",
              s.options().massive_factor, massive.size());
  if (!massive.empty()) {
    Table t({"hook", "channel", "abs max", "median |x|", "ratio"});
    for (size_t i = 0; i < massive.size() && i < 30; ++i)
      t.add({massive[i].hook, std::to_string(massive[i].channel), num(massive[i].abs_max),
             num(massive[i].median_abs), fixed(massive[i].ratio, 1)});
    std::printf("%s", t.str({1, 2, 3, 4}).c_str());
    if (massive.size() > 30) std::printf("... and %zu more (all in --json)\n", massive.size() - 30);
  }
  for (const auto& nc : s.top_contexts()) {
    std::printf("\ntop activations of %s:%lld\n", nc.neuron.hook.c_str(),
                (long long)nc.neuron.channel);
    Table t({"value", "doc", "pos", "context"});
    for (const auto& c : nc.top) {
      std::string text;
      for (size_t i = 0; i < c.context.size(); ++i) {
        const std::string piece = printable(label(c.context[i]));
        text += int64_t(i) == c.at ? "[[" + piece + "]]" : piece;
        if (label(c.context[i]).starts_with("#")) text += " ";
      }
      t.add({num(c.value), std::to_string(c.document), std::to_string(c.position), text});
    }
    std::printf("%s", t.str({0, 1, 2}).c_str());
  }
}

void run_stats(StatsArgs& a) {
  HookedModel hm(a.model.load());
  const Model& m = hm.model();
  const bool have_prompt = !a.prompt.text.empty() || !a.prompt.tokens.empty();
  if (have_prompt == !a.corpus.empty())
    usage_fail("give either a prompt (--prompt / --tokens) or --corpus FILE");
  if (a.max_docs < 0) usage_fail("--max-docs must not be negative");
  if (!a.hooks.empty()) {
    a.options.hooks.clear();
    for (const auto& h : a.hooks) a.options.hooks += (a.options.hooks.empty() ? "" : ",") + h;
  }
  for (const auto& n : a.neurons) a.options.neurons.push_back(analysis::parse_neuron(n));
  analysis::ActivationStats stats(hm, a.options);
  // Opened before the run, so an unwritable log directory fails before anything is written.
  std::unique_ptr<RunLog> log;
  std::unique_ptr<analysis::AttentionSummaries> attention;
  if (!a.tensorboard.empty()) {
    log = std::make_unique<RunLog>(a.tensorboard);
    attention = std::make_unique<analysis::AttentionSummaries>(hm);
    stats.also_observe(*attention, attention->mask());
  }
  if (have_prompt) {
    stats.add_document(a.prompt.ids(m));
    stats.flush();
  } else {
    analysis::CorpusReader reader(a.corpus, m, a.prompt.bos || analysis::default_bos(m));
    analysis::CorpusDocument doc;
    while ((a.max_docs == 0 || stats.documents() < a.max_docs) && reader.next(doc))
      stats.add_document(doc.tokens, doc.line);
    stats.flush();
  }
  if (stats.split_documents() > 0)
    std::fprintf(
        stderr,
        "glassbox: warning: %lld documents were longer than the %lld-token window and were "
        "split into windows, each run on its own\n",
        (long long)stats.split_documents(), (long long)stats.window());
  const analysis::TokenLabeler label = analysis::model_labeler(m);
  nlohmann::json j = analysis::to_json(stats, label);
  j["model"] = m.path();
  if (!a.corpus.empty()) j["corpus"] = a.corpus;
  if (!a.out.empty()) {
    const auto files = analysis::write_stats(a.out, stats, j);
    std::fprintf(stderr, "glassbox: wrote %zu files to %s\n", files.size(), a.out.c_str());
  }
  if (log) {
    analysis::add_stats_histograms(log->writer(), stats);
    attention->write_scalars(log->writer());
    const auto file = log->finish();
    std::fprintf(stderr, "glassbox: wrote TensorBoard summaries to %s\n", file.string().c_str());
  }
  if (a.json) {
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%lld documents, %lld tokens\n", (long long)stats.documents(),
              (long long)stats.tokens());
  print_hooks(j);
  print_findings(stats, label);
}

}  // namespace

void add_stats_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("stats", "Activation statistics over a prompt or a corpus");
  auto args = std::make_shared<StatsArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  cmd->add_option("--corpus", args->corpus,
                  "Corpus: a text file (one document per line) or JSON Lines with a \"text\" "
                  "(or \"tokens\") field");
  cmd->add_option("--max-docs", args->max_docs, "Stop after this many documents");
  cmd->add_option("--hooks", args->hooks,
                  "Hook filter (default: resid pre/mid/post, attn_out, mlp_out, mlp pre/post)");
  cmd->add_option("--neuron", args->neurons,
                  "Keep the top activating contexts of HOOK:CHANNEL (repeatable), e.g. "
                  "blocks.1.mlp.hook_post:37");
  cmd->add_option("--top-k", args->options.top_k, "Contexts kept per neuron (default 10)");
  cmd->add_option("--fire-threshold", args->options.fire_threshold,
                  "A neuron fires when mlp.hook_pre exceeds this (default 0)");
  cmd->add_option("--rare", args->options.rare_fraction,
                  "Rarely firing: in fewer than this fraction of positions (default 0.01)");
  cmd->add_option("--massive-factor", args->options.massive_factor,
                  "Massive channel: abs max above this many times the hook's median |x| "
                  "(default 100)");
  cmd->add_option("--window", args->options.window,
                  "Positions per forward pass; longer documents are split (default: the model's "
                  "context, at most 1024)");
  cmd->add_option("--batch", args->options.batch,
                  "Documents (windows) run together in one forward pass, while they hold at "
                  "most 256 padded positions (default 8)");
  cmd->add_option("-o,--out", args->out, "Write stats.json and per-hook .npy files to this folder");
  cmd->add_option("--tensorboard", args->tensorboard,
                  "Also write TensorBoard summaries to this log directory: each hook's histogram "
                  "and every head's attention entropy and sink mass over all documents "
                  "(step = layer)")
      ->type_name("DIR");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_stats(*args); });
}

}  // namespace gb::cli
