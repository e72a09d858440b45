// Session: the viewer's model(s), its latest runs, and the answer to every API request. It knows
// nothing of HTTP: the server (server.h) maps routes onto these calls, and the self-contained page
// (static_page.h) calls them directly to record what the page would ask for.
//
// The API (every reply JSON unless said otherwise; errors are {"error": "..."} with a 4xx/5xx):
//   GET  info                         the model(s), the starting prompt, limits
//   POST run {text | tokens, bos}     runs a prompt -> run id, tokens, per-position predictions,
//                                     the next-token top k, per-layer statistics
//   GET  thumbs?run                   u8 [n_layers, n_heads, t, t] pattern thumbnails
//   GET  attention?run&layer          u8 [n_heads, n(n+1)/2] the layer's packed patterns
//   GET  neurons?run&layer            the layer's top neurons and per-neuron scales
//   GET  neuron_map?run&layer         i8 [n, d_mlp] the layer's mlp.hook_post
//   GET  lens?run&block               logit lens of positions [block·B, (block+1)·B)
//   GET  heads?run                    head scores (analysis/head_scores; entropy, sink and
//                                     distance on the run's prompt)
//   GET  ablate?run&heads=L.H,...     the next-token distribution with those heads zero-ablated
//   GET  diff?run                     model A against model B on the run's tokens, per layer
//
// POST run does one forward pass; the lens (every block at once), head scores, ablations and the
// diff each take their own, when the page first asks for them, and are memoised per run.
//
// Concurrency: one model computation at a time (model_mutex_: forward passes, the lens,
// ablations, the diff). A finished run is shared (shared_ptr) and its fixed parts are read
// without that lock; its lazily computed parts (layers over the memory budget, memoised
// replies) have the run's own lock. The latest `runs_kept` runs are held; an older id is 404.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "observe/hooked_model.h"
#include "viewer/run_capture.h"

namespace gb::viewer {

struct Reply {
  int status = 200;
  std::string type = "application/json";
  std::string body;
};

// A request the client got wrong (or a run no longer held): the HTTP status and the message.
class HttpError : public Error {
 public:
  HttpError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

struct ApiRequest {
  std::map<std::string, std::string> query;
  std::string body;
};

struct SessionOptions {
  int top_k = 10;                           // next-token candidates listed
  int lens_top_k = 3;                       // tokens per logit-lens cell
  int64_t lens_block = 64;                  // logit-lens positions per request
  size_t layer_budget = size_t(256) << 20;  // bytes of LayerData one run keeps
  int runs_kept = 4;
  int64_t thumb_side = 32;
  int top_neurons = 24;
  std::string prompt_text;             // the starting prompt, if given
  std::vector<int32_t> prompt_tokens;  // ... or as token ids
  bool prompt_bos = false;
};

// The routes: method, name (the path after /api/), handler.
class Session;
struct Route {
  const char* method;
  const char* name;
  Reply (Session::*handler)(const ApiRequest&);
};

class Session {
 public:
  // other: model B for the diff, or null.
  Session(HookedModel& model, HookedModel* other, SessionOptions options);

  static const std::vector<Route>& routes();

  Reply info(const ApiRequest& r);
  Reply run(const ApiRequest& r);
  Reply thumbs(const ApiRequest& r);
  Reply attention(const ApiRequest& r);
  Reply neurons(const ApiRequest& r);
  Reply neuron_map(const ApiRequest& r);
  Reply lens(const ApiRequest& r);
  Reply heads(const ApiRequest& r);
  Reply ablate(const ApiRequest& r);
  Reply diff(const ApiRequest& r);

  const SessionOptions& options() const { return options_; }
  const ModelConfig& config() const { return model_.model().config(); }
  bool has_diff() const { return other_ != nullptr; }

 private:
  struct Run;
  std::shared_ptr<Run> find_run(const ApiRequest& r);
  int layer_param(const ApiRequest& r);
  std::shared_ptr<const LayerData> layer(Run& run, int layer);
  std::vector<int32_t> prompt_tokens(const std::string& body);
  // A memoised reply of a run, computed (under the model lock) on first use.
  template <typename Compute>
  Reply memo(Run& run, const std::string& key, Compute compute);

  HookedModel& model_;
  HookedModel* other_;
  SessionOptions options_;
  std::mutex model_mutex_;  // one model computation at a time
  std::mutex runs_mutex_;   // guards runs_ and next_id_
  std::deque<std::shared_ptr<Run>> runs_;
  int64_t next_id_ = 1;
};

}  // namespace gb::viewer
