// glassbox trace: run a prompt and write the selected hooks' tensors as .npy / .safetensors.
#include <cstdio>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "observe/hooked_model.h"
#include "observe/trace_writer.h"

namespace gb::cli {
namespace {

struct TraceArgs {
  ModelArgs model;
  PromptArgs prompt;
  std::vector<std::string> hooks;
  std::string out;
  bool safetensors = false;
  int64_t chunk = 0;
};

void run_trace(const TraceArgs& a) {
  HookedModel hm(a.model.load());
  const std::vector<int32_t> ids = a.prompt.ids(hm.model());
  std::string filter;
  for (const auto& h : a.hooks) filter += (filter.empty() ? "" : ",") + h;
  auto plan = hm.plan(filter);
  ActivationCache cache(plan);
  if (a.chunk < 0) usage_fail("--chunk must be positive");
  hm.run_observed(ids, *plan, cache, a.chunk);
  TraceInfo info{.model_path = hm.model().path(),
                 .config = hm.model().config(),
                 .tokens = ids,
                 .token_strings = {},
                 .filter = filter};
  for (int32_t id : ids) info.token_strings.push_back(token_label(hm.model(), id));
  const auto files = write_trace(a.out, a.safetensors ? TraceFormat::Safetensors : TraceFormat::Npy,
                                 cache, *plan, info);
  std::fprintf(stderr, "glassbox: wrote %zu hooks for %zu tokens to %s\n",
               plan->selections().size(), ids.size(), a.out.c_str());
}

}  // namespace

void add_trace_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("trace", "Run a prompt and save hook tensors as NumPy files");
  auto args = std::make_shared<TraceArgs>();
  args->model.add(cmd);
  args->prompt.add(cmd);
  cmd->add_option("--hooks", args->hooks,
                  "Hook filter: names, globs (blocks.*.attn.hook_pattern), layer ranges "
                  "(blocks.2-5.mlp.hook_post), re:REGEX, all; slices [head=..][pos=..]")
      ->required();
  cmd->add_option("-o,--out", args->out, "Output directory")->required();
  cmd->add_flag("--safetensors", args->safetensors,
                "Write one trace.safetensors instead of .npy files");
  cmd->add_option("--chunk", args->chunk,
                  "Feed the prompt through the KV cache this many tokens at a time (default: all)");
  cmd->callback([args] { run_trace(*args); });
}

}  // namespace gb::cli
