// glassbox view: the web viewer. Serves the page and its API on 127.0.0.1 (or --host) until
// interrupted, or with --html writes the page and one run's data as a single self-contained file.
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "analysis/run_diff.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/error.h"
#include "io/atomic_file.h"
#include "viewer/assets.h"
#include "viewer/server.h"
#include "viewer/session.h"
#include "viewer/static_page.h"

namespace gb::cli {
namespace {

struct ViewArgs {
  std::vector<std::string> models;
  int threads = 0;
  PromptArgs prompt;
  std::string host = "127.0.0.1";
  int port = 8642;
  std::string html;
  int top_k = 10;
  int64_t cache_mb = 256;
  int keep_runs = 4;
};

std::unique_ptr<HookedModel> load(const std::string& path, int threads) {
  auto m = std::make_unique<HookedModel>(ModelArgs{.path = path, .threads = threads}.load());
  if (m->model().config().family == Family::TorchTransformer)
    usage_fail(path, " is an encoder-decoder model; the viewer shows decoder-only models");
  return m;
}

void run_view(const ViewArgs& a, const CLI::App& cmd) {
  if (a.models.size() > 2) usage_fail("give one model, or two (-m A -m B) to compare");
  if (a.top_k <= 0) usage_fail("--top-k must be positive");
  if (a.cache_mb < 0) usage_fail("--cache-mb must not be negative");
  if (a.keep_runs < 1) usage_fail("--keep-runs must be at least 1");
  if (a.port < 0 || a.port > 65535) usage_fail("--port must be 0..65535");
  const bool html = !a.html.empty();
  if (html && (cmd.count("--port") || cmd.count("--host")))
    usage_fail("--html writes a file; --port and --host are for serving");
  auto model = load(a.models.empty() ? "" : a.models[0], a.threads);  // "": the default model
  std::unique_ptr<HookedModel> other;
  if (a.models.size() == 2) {
    other = load(a.models[1], a.threads);
    analysis::check_comparable(model->model(), other->model());
  }
  viewer::SessionOptions so;
  so.top_k = a.top_k;
  so.layer_budget = size_t(a.cache_mb) << 20;
  so.runs_kept = a.keep_runs;
  const bool has_prompt = !a.prompt.text.empty() || !a.prompt.tokens.empty();
  if (has_prompt) {
    const std::vector<int32_t> ids = a.prompt.ids(model->model());  // checks it now
    if (int64_t(ids.size()) > model->model().config().n_ctx)
      usage_fail("the prompt is ", ids.size(), " tokens; the model's context is ",
                 model->model().config().n_ctx, " tokens");
    if (a.prompt.text.empty()) {
      so.prompt_tokens = ids;
    } else {
      so.prompt_text = a.prompt.text;
      so.prompt_bos = a.prompt.bos;
    }
  }
  viewer::Session session(*model, other.get(), so);

  if (html) {
    if (!has_prompt) usage_fail("--html needs a prompt (-p TEXT or --tokens IDS)");
    const bool tty = isatty(STDERR_FILENO);
    const std::string data = viewer::record_replies(session, [&](const std::string& m) {
      if (tty) std::fprintf(stderr, "\rglassbox view: %-60s", m.c_str());
    });
    if (tty) std::fprintf(stderr, "\r%80s\r", "");
    const std::string page = viewer::page_html(viewer::PageMode::Static, data);
    io::write_file_atomically(a.html, page);  // no partial page left if it fails
    std::printf("wrote %s (%.1f MB): the viewer page with this run's data, no server needed\n",
                a.html.c_str(), double(page.size()) / 1e6);
    return;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a browser closing mid-reply must not end the server
  viewer::Server server(session, viewer::page_html(viewer::PageMode::Server),
                        {.host = a.host, .port = a.port});
  const int port = server.bind();
  const std::string shown_host =
      a.host.find(':') != std::string::npos ? "[" + a.host + "]" : a.host;
  std::printf("glassbox view: serving http://%s:%d/ (%s; Ctrl-C to stop)\n", shown_host.c_str(),
              port, model->model().config().name.c_str());
  std::fflush(stdout);
  server.serve();
}

}  // namespace

void add_view_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "view", "Web viewer: attention, neurons, logit lens, head scores, ablation, diff");
  auto args = std::make_shared<ViewArgs>();
  cmd->add_option("-m,--model", args->models,
                  "Model (.gguf or Hugging Face folder; default: the shipped demo model); give two "
                  "(-m A -m B) to compare them");
  cmd->add_option("-t,--threads", args->threads, "Threads (default: one per core)");
  args->prompt.add(cmd);
  cmd->add_option("--host", args->host,
                  "Address to listen on (default 127.0.0.1; anything else exposes the viewer)");
  cmd->add_option("--port", args->port, "Port (default 8642; 0 picks a free one)");
  cmd->add_option("--html", args->html,
                  "Write the page with the prompt's data to this file instead of serving");
  cmd->add_option("-k,--top-k", args->top_k, "Next-token candidates listed (default 10)");
  cmd->add_option("--cache-mb", args->cache_mb,
                  "Memory per run for attention patterns and MLP activations, MiB (default 256; "
                  "layers beyond it are recomputed when shown)");
  cmd->add_option("--keep-runs", args->keep_runs,
                  "Runs whose data the server holds (default 4; an older run's id answers 404, "
                  "run it again). Several tabs or clients at once want one each");
  cmd->callback([args, cmd] { run_view(*args, *cmd); });
}

}  // namespace gb::cli
