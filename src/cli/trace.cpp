// glassbox trace: run a prompt (or, for encoder-decoder models, --src/--tgt arrays) and write the
// selected hooks' tensors as .npy / .safetensors; with --tensorboard, also TensorBoard summaries.
#include <cstdio>
#include <memory>

#include "analysis/observation_summaries.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "cli/seq2seq_args.h"
#include "core/error.h"
#include "export/run_log.h"
#include "observe/hooked_model.h"
#include "observe/interventions.h"
#include "observe/trace_writer.h"

namespace gb::cli {
namespace {

struct TraceArgs {
  ModelArgs model;
  PromptArgs prompt;
  Seq2SeqArgs seq2seq;
  std::vector<std::string> hooks;
  std::string out;
  std::string tensorboard;
  bool safetensors = false;
  int64_t chunk = 0;
};

std::string join_filter(const std::vector<std::string>& hooks) {
  std::string filter;
  for (const auto& h : hooks) filter += (filter.empty() ? "" : ",") + h;
  return filter;
}

void trace_seq2seq(const TraceArgs& a, HookedModel& hm, Seq2SeqModel& model) {
  if (!a.prompt.text.empty() || !a.prompt.tokens.empty() || a.chunk != 0)
    usage_fail(model.path(), " is an encoder-decoder model: give --src and --tgt, not a prompt");
  if (!a.tensorboard.empty())
    usage_fail("--tensorboard: not available for encoder-decoder models (", model.path(), ")");
  const Seq2SeqInputs in = a.seq2seq.load(model);
  const std::string filter = join_filter(a.hooks);
  auto plan = hm.plan(filter);
  ActivationCache cache(plan);
  model.forward(in, plan->empty() ? Hooks() : Hooks(plan->mask(), cache));
  TraceInfo info{.model_path = model.path(),
                 .config = model.config(),
                 .tokens = {},
                 .token_strings = {},
                 .filter = filter,
                 .inputs = {},
                 .batch_first = in.batch_first,
                 .tgt_causal = in.tgt_causal};
  const std::pair<const char*, const InputArray*> arrays[] = {
      {"src", &in.src},
      {"tgt", &in.tgt},
      {"src_mask", &in.src_mask},
      {"tgt_mask", &in.tgt_mask},
      {"memory_mask", &in.memory_mask},
      {"src_key_padding_mask", &in.src_key_padding},
      {"tgt_key_padding_mask", &in.tgt_key_padding},
      {"memory_key_padding_mask", &in.memory_key_padding}};
  for (const auto& [role, arr] : arrays)
    if (arr->given()) info.inputs.push_back({role, arr->name, arr->values.shape().to_vector()});
  write_trace(a.out, a.safetensors ? TraceFormat::Safetensors : TraceFormat::Npy, cache, *plan,
              info);
  std::fprintf(stderr, "glassbox: wrote %zu hooks for src %s, tgt %s to %s\n",
               plan->selections().size(), in.src.values.shape().str().c_str(),
               in.tgt.values.shape().str().c_str(), a.out.c_str());
}

void run_trace(const TraceArgs& a) {
  HookedModel hm(a.model.load());
  if (auto* s2s = dynamic_cast<Seq2SeqModel*>(&hm.model())) return trace_seq2seq(a, hm, *s2s);
  reject_seq2seq_args(hm.model(), a.seq2seq);
  const std::vector<int32_t> ids = a.prompt.ids(hm.model());
  const std::string filter = join_filter(a.hooks);
  auto plan = hm.plan(filter);
  ActivationCache cache(plan);
  if (a.chunk < 0) usage_fail("--chunk must be positive");
  // Opened before the run, so an unwritable log directory fails before anything is written.
  std::unique_ptr<RunLog> log;
  std::unique_ptr<analysis::TraceSummaries> summaries;
  if (!a.tensorboard.empty()) {
    log = std::make_unique<RunLog>(a.tensorboard);
    summaries = std::make_unique<analysis::TraceSummaries>(hm, log->writer(), ids);
  }
  ObserverList observers(hm.model().config().n_layers);
  observers.add(cache, plan->mask());
  if (summaries) summaries->add_to(observers);
  hm.run_observed(ids, observers.mask(), observers, a.chunk);
  TraceInfo info{.model_path = hm.model().path(),
                 .config = hm.model().config(),
                 .tokens = ids,
                 .token_strings = {},
                 .filter = filter,
                 .inputs = {}};
  for (int32_t id : ids) info.token_strings.push_back(token_label(hm.model(), id));
  const auto files = write_trace(a.out, a.safetensors ? TraceFormat::Safetensors : TraceFormat::Npy,
                                 cache, *plan, info);
  std::fprintf(stderr, "glassbox: wrote %zu hooks for %zu tokens to %s\n",
               plan->selections().size(), ids.size(), a.out.c_str());
  if (summaries) {
    summaries->finish(cache, *plan);
    const auto file = log->finish();
    std::fprintf(stderr, "glassbox: wrote TensorBoard summaries to %s\n", file.string().c_str());
  }
}

}  // namespace

void add_trace_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("trace", "Run a prompt and save hook tensors as NumPy files");
  auto args = std::make_shared<TraceArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  args->seq2seq.add(cmd);
  cmd->add_option("--hooks", args->hooks,
                  "Hook filter: names, globs (blocks.*.attn.hook_pattern), layer ranges "
                  "(blocks.2-5.mlp.hook_post), re:REGEX, all; slices [head=..][pos=..]")
      ->required();
  cmd->add_option("-o,--out", args->out, "Output directory")->required();
  cmd->add_flag("--safetensors", args->safetensors,
                "Write one trace.safetensors instead of .npy files");
  cmd->add_option("--tensorboard", args->tensorboard,
                  "Also write TensorBoard summaries to this log directory: histograms of the "
                  "traced hooks, attention entropy and sink mass per head and heat maps of every "
                  "layer's pattern (step = layer), and the logit lens as text")
      ->type_name("DIR");
  cmd->add_option("--chunk", args->chunk,
                  "Feed the prompt through the KV cache this many tokens at a time (default: all)");
  cmd->callback([args] { run_trace(*args); });
}

}  // namespace gb::cli
