#include "viewer/session.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <list>

#include "analysis/head_scores.h"
#include "analysis/logit_lens.h"
#include "analysis/readout.h"
#include "analysis/run_diff.h"
#include "observe/interventions.h"
#include "tokenizer/tokenizer.h"
#include "viewer/replies.h"

namespace gb::viewer {

// A finished run. Its fixed part is set before it is shared; `mutex` guards the rest.
struct Session::Run {
  int64_t id = 0;
  std::vector<int32_t> tokens;
  std::string summary;          // the reply to POST run
  std::vector<uint8_t> thumbs;  // [n_layers, n_heads, t, t]
  std::vector<double> clean;    // next-token log-probabilities at the last position
  // The same from a forward pass without observers, as `glassbox run` computes it (the run's own
  // pass materialises the patterns, which rounds differently); for ablations, under model_mutex_.
  std::vector<double> plain_clean;
  std::mutex mutex;
  std::vector<std::shared_ptr<const LayerData>> layers;  // [n_layers], null: not held
  std::list<int> recent;                                 // held layers, most recent first
  size_t layer_bytes = 0;
  std::map<std::string, std::string> memo;  // reply bodies by request ("lens?block=3")
};

namespace {

using nlohmann::json;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

Reply json_reply(const json& j) {
  return {.status = 200, .type = "application/json", .body = dump(j)};
}

template <typename T>
Reply binary_reply(const std::vector<T>& data) {
  const auto* bytes = reinterpret_cast<const char*>(data.data());
  return {.status = 200,
          .type = "application/octet-stream",
          .body = std::string(bytes, bytes + data.size() * sizeof(T))};
}

const std::string& param(const ApiRequest& r, const std::string& name) {
  const auto it = r.query.find(name);
  if (it == r.query.end()) throw HttpError(400, cat("missing parameter '", name, "'"));
  return it->second;
}

int64_t int_param(const ApiRequest& r, const std::string& name, int64_t lo, int64_t hi) {
  const std::string& text = param(r, name);
  size_t used = 0;
  int64_t v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (text.empty() || used != text.size())
    throw HttpError(400, cat("parameter '", name, "': '", text, "' is not an integer"));
  if (v < lo || v > hi)
    throw HttpError(400,
                    cat("parameter '", name, "': ", v, " is out of range (", lo, "..", hi, ")"));
  return v;
}

// Only the named parameters may appear.
void allow_params(const ApiRequest& r, std::initializer_list<const char*> names) {
  for (const auto& [key, value] : r.query)
    if (std::find_if(names.begin(), names.end(), [&](const char* n) { return key == n; }) ==
        names.end())
      throw HttpError(400, cat("unknown parameter '", key, "'"));
}

// "models/x.gguf" -> "x.gguf", "checkpoints/tiny/" -> "tiny": a model named without the folders.
std::string file_name(const std::string& path) {
  std::filesystem::path p(path);
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

std::string zero_head_spec(int layer, int head) {
  return cat("blocks.", layer, ".attn.hook_z[head=", head, "]");
}

}  // namespace

Session::Session(HookedModel& model, HookedModel* other, SessionOptions options)
    : model_(model), other_(other), options_(std::move(options)) {}

const std::vector<Route>& Session::routes() {
  static const std::vector<Route> table = {
      {"GET", "info", &Session::info},       {"POST", "run", &Session::run},
      {"GET", "thumbs", &Session::thumbs},   {"GET", "attention", &Session::attention},
      {"GET", "neurons", &Session::neurons}, {"GET", "neuron_map", &Session::neuron_map},
      {"GET", "lens", &Session::lens},       {"GET", "heads", &Session::heads},
      {"GET", "ablate", &Session::ablate},   {"GET", "diff", &Session::diff},
  };
  return table;
}

Reply Session::info(const ApiRequest& r) {
  allow_params(r, {});
  auto describe = [](const Model& m) {
    const ModelConfig& c = m.config();
    return json{{"name", c.name},
                {"file", file_name(m.path())},
                {"arch", c.arch},
                {"family", family_name(c.family)},
                {"n_layers", c.n_layers},
                {"n_heads", c.n_heads},
                {"n_kv_heads", c.n_kv_heads},
                {"d_model", c.d_model},
                {"d_mlp", c.d_mlp},
                {"d_vocab", c.d_vocab},
                {"n_ctx", c.n_ctx},
                {"n_params", c.n_params},
                {"tokenizer", m.tokenizer() != nullptr}};
  };
  json models = json::array({describe(model_.model())});
  if (other_) models.push_back(describe(other_->model()));
  json prompt = nullptr;
  if (!options_.prompt_text.empty())
    prompt = {{"text", options_.prompt_text}, {"bos", options_.prompt_bos}};
  else if (!options_.prompt_tokens.empty())
    prompt = {{"tokens", options_.prompt_tokens}};
  return json_reply({{"models", models},
                     {"prompt", prompt},
                     {"top_k", options_.top_k},
                     {"lens_block", options_.lens_block},
                     {"max_tokens", config().n_ctx}});
}

std::vector<int32_t> Session::prompt_tokens(const std::string& body) {
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    throw HttpError(400, cat("the request body is not JSON: ", e.what()));
  }
  if (!j.is_object()) throw HttpError(400, "the request body must be a JSON object");
  for (const auto& [key, value] : j.items())
    if (key != "text" && key != "tokens" && key != "bos")
      throw HttpError(400, cat("unknown field '", key, "' (expected text or tokens, and bos)"));
  if (j.contains("text") == j.contains("tokens"))
    throw HttpError(400, "give the prompt as \"text\" or as \"tokens\" (one of them)");
  if (j.contains("bos") && !j["bos"].is_boolean())
    throw HttpError(400, "\"bos\" must be true or false");
  const Model& m = model_.model();
  const int64_t n_ctx = config().n_ctx;
  std::vector<int32_t> ids;
  if (j.contains("text")) {
    if (!j["text"].is_string()) throw HttpError(400, "\"text\" must be a string");
    const std::string text = j["text"];
    if (text.empty()) throw HttpError(400, "the prompt is empty");
    const tok::Tokenizer* tok = m.tokenizer();
    if (!tok) throw HttpError(400, "this model has no tokenizer: give the prompt as token ids");
    const bool bos = j.value("bos", false) || tok->add_bos_default();
    ids = tok->encode(text, {.add_bos = bos});
  } else {
    if (!j["tokens"].is_array()) throw HttpError(400, "\"tokens\" must be an array of token ids");
    if (int64_t(j["tokens"].size()) > n_ctx)
      throw HttpError(413, cat("the prompt is ", j["tokens"].size(),
                               " tokens; the model's context is ", n_ctx, " tokens"));
    for (const json& t : j["tokens"]) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= config().d_vocab)
        throw HttpError(400,
                        cat("token ", t.dump(), " is not an id of this model's vocabulary (0..",
                            config().d_vocab - 1, ")"));
      ids.push_back(t.get<int32_t>());
    }
  }
  if (ids.empty()) throw HttpError(400, "the prompt encodes to no tokens");
  if (int64_t(ids.size()) > n_ctx)
    throw HttpError(413, cat("the prompt is ", ids.size(), " tokens; the model's context is ",
                             n_ctx, " tokens"));
  return ids;
}

Reply Session::run(const ApiRequest& r) {
  allow_params(r, {});
  const std::vector<int32_t> tokens = prompt_tokens(r.body);
  const ModelConfig& c = config();
  const int64_t n = int64_t(tokens.size());
  auto run = std::make_shared<Run>();
  run->tokens = tokens;
  Labels labels(analysis::model_labeler(model_.model()));
  json timing;
  std::lock_guard lock(model_mutex_);
  auto t0 = std::chrono::steady_clock::now();

  // The forward pass: compact patterns, activations and statistics of every layer.
  CaptureOptions co{.n_layers = c.n_layers,
                    .keep = std::vector<bool>(size_t(c.n_layers)),
                    .stats = true,
                    .thumb_side = options_.thumb_side,
                    .top_neurons = options_.top_neurons};
  const size_t per_layer = LayerData::bytes_for(n, c.n_heads, c.d_mlp);
  for (int L = 0; L < c.n_layers && size_t(L + 1) * per_layer <= options_.layer_budget; ++L)
    co.keep[size_t(L)] = true;
  RunCapture capture(co);
  const Tensor logits = model_.run_observed(tokens, *model_.plan(capture.filter()), capture);
  timing["forward"] = ms_since(t0);
  run->layers.assign(capture.layers.begin(), capture.layers.end());
  for (int L = c.n_layers - 1; L >= 0; --L)
    if (run->layers[size_t(L)]) {
      run->recent.push_back(L);
      run->layer_bytes += run->layers[size_t(L)]->bytes();
    }
  run->thumbs = std::move(capture.thumbs);
  run->clean = analysis::log_softmax(last_position_logits(logits));

  t0 = std::chrono::steady_clock::now();
  json predictions = predictions_json(logits, 5, labels);
  json top = top_json(run->clean, options_.top_k, labels);
  timing["predictions"] = ms_since(t0);

  std::lock_guard runs_lock(runs_mutex_);
  run->id = next_id_++;
  json tokens_json = json::array();
  for (int32_t id : tokens) tokens_json.push_back(labels(id));
  json summary = {{"run", run->id},
                  {"tokens", tokens_json},
                  {"n_layers", c.n_layers},
                  {"n_heads", c.n_heads},
                  {"d_mlp", c.d_mlp},
                  {"thumb_side", capture.thumb_side},
                  {"predictions", predictions},
                  {"top", top},
                  {"lens_block", options_.lens_block},
                  {"lens_blocks", (n - 1) / options_.lens_block + 1},
                  {"stats", stats_json(capture)},
                  {"timing_ms", timing},
                  {"labels", labels.json()}};
  run->summary = dump(summary);
  runs_.push_front(run);
  while (int(runs_.size()) > options_.runs_kept) runs_.pop_back();
  return {.status = 200, .type = "application/json", .body = run->summary};
}

std::shared_ptr<Session::Run> Session::find_run(const ApiRequest& r) {
  const int64_t id = int_param(r, "run", 1, INT64_MAX);
  std::lock_guard lock(runs_mutex_);
  for (const auto& run : runs_)
    if (run->id == id) return run;
  throw HttpError(404, cat("run ", id, " is not held (the server keeps its ", options_.runs_kept,
                           " latest runs); run the prompt again"));
}

int Session::layer_param(const ApiRequest& r) {
  return int(int_param(r, "layer", 0, config().n_layers - 1));
}

std::shared_ptr<const LayerData> Session::layer(Run& run, int L) {
  auto held = [&]() -> std::shared_ptr<const LayerData> {
    std::lock_guard lock(run.mutex);
    auto d = run.layers[size_t(L)];
    if (d) {
      run.recent.remove(L);
      run.recent.push_front(L);
    }
    return d;
  };
  if (auto d = held()) return d;
  std::lock_guard model_lock(model_mutex_);
  if (auto d = held()) return d;  // computed while this request waited
  CaptureOptions co{.n_layers = config().n_layers,
                    .keep = std::vector<bool>(size_t(config().n_layers)),
                    .stats = false,
                    .thumb_side = options_.thumb_side,
                    .top_neurons = options_.top_neurons};
  co.keep[size_t(L)] = true;
  RunCapture capture(co);
  model_.run_observed(run.tokens, *model_.plan(capture.filter()), capture);
  std::shared_ptr<const LayerData> d = capture.layers[size_t(L)];
  std::lock_guard lock(run.mutex);
  run.layers[size_t(L)] = d;
  run.recent.push_front(L);
  run.layer_bytes += d->bytes();
  while (run.layer_bytes > options_.layer_budget && run.recent.size() > 1) {
    const int old = run.recent.back();
    run.recent.pop_back();
    run.layer_bytes -= run.layers[size_t(old)]->bytes();
    run.layers[size_t(old)].reset();
  }
  return d;
}

template <typename Compute>
Reply Session::memo(Run& run, const std::string& key, Compute compute) {
  {
    std::lock_guard lock(run.mutex);
    const auto it = run.memo.find(key);
    if (it != run.memo.end())
      return {.status = 200, .type = "application/json", .body = it->second};
  }
  std::string body;
  {
    std::lock_guard model_lock(model_mutex_);
    body = dump(compute());
  }
  std::lock_guard lock(run.mutex);
  run.memo[key] = body;
  return {.status = 200, .type = "application/json", .body = body};
}

Reply Session::thumbs(const ApiRequest& r) {
  allow_params(r, {"run"});
  return binary_reply(find_run(r)->thumbs);
}

Reply Session::attention(const ApiRequest& r) {
  allow_params(r, {"run", "layer"});
  auto run = find_run(r);
  return binary_reply(layer(*run, layer_param(r))->pattern);
}

Reply Session::neurons(const ApiRequest& r) {
  allow_params(r, {"run", "layer"});
  auto run = find_run(r);
  const int L = layer_param(r);
  const auto d = layer(*run, L);
  json top = json::array();
  for (const NeuronPeak& p : d->top_neurons)
    top.push_back({{"neuron", p.neuron}, {"max", p.max}, {"at", p.at}, {"mean", p.mean}});
  return json_reply({{"layer", L}, {"d_mlp", d->d_mlp}, {"scale", d->neuron_scale}, {"top", top}});
}

Reply Session::neuron_map(const ApiRequest& r) {
  allow_params(r, {"run", "layer"});
  auto run = find_run(r);
  return binary_reply(layer(*run, layer_param(r))->neurons);
}

Reply Session::lens(const ApiRequest& r) {
  allow_params(r, {"run", "block"});
  auto run = find_run(r);
  const int64_t n = int64_t(run->tokens.size());
  const int64_t B = options_.lens_block;
  const int64_t block = int_param(r, "block", 0, (n - 1) / B);
  const auto key = [](int64_t b) { return cat("lens?block=", b); };
  {
    std::lock_guard lock(run->mutex);
    const auto it = run->memo.find(key(block));
    if (it != run->memo.end())
      return {.status = 200, .type = "application/json", .body = it->second};
  }
  // One forward pass reads out every position; each block's reply is kept.
  std::lock_guard model_lock(model_mutex_);
  {
    std::lock_guard lock(run->mutex);  // computed while this request waited?
    const auto it = run->memo.find(key(block));
    if (it != run->memo.end())
      return {.status = 200, .type = "application/json", .body = it->second};
  }
  const analysis::LogitLens lens = analysis::logit_lens(
      model_, run->tokens, {.top_k = options_.lens_top_k, .target = std::nullopt, .positions = {}});
  std::map<std::string, std::string> replies;
  for (int64_t b = 0; b * B < n; ++b) {
    Labels labels(analysis::model_labeler(model_.model()));
    json j = lens_json(lens, b, size_t(b * B), size_t(std::min(n, (b + 1) * B)), labels);
    j["labels"] = labels.json();
    replies[key(b)] = dump(j);
  }
  std::lock_guard lock(run->mutex);
  run->memo.merge(replies);
  return {.status = 200, .type = "application/json", .body = run->memo.at(key(block))};
}

Reply Session::heads(const ApiRequest& r) {
  allow_params(r, {"run"});
  auto run = find_run(r);
  return memo(*run, "heads", [&] {
    analysis::HeadScoreOptions o{};
    if (analysis::default_bos(model_.model())) o.bos = model_.model().tokenizer()->bos();
    if (run->tokens.size() >= 2) o.prompt = run->tokens;
    json j;
    try {
      j = analysis::to_json(analysis::head_scores(model_, o), analysis::id_label);
      j.erase("sequences");
      j.erase("prompt_strings");
    } catch (const UsageError& e) {
      j = {{"error", e.what()}};  // e.g. a context too short for the repeated sequences
    }
    return j;
  });
}

Reply Session::ablate(const ApiRequest& r) {
  allow_params(r, {"run", "heads"});
  auto run = find_run(r);
  const ModelConfig& c = config();
  // heads=L.H,L.H,...
  std::vector<std::pair<int, int>> heads;
  const std::string& spec = param(r, "heads");
  size_t start = 0;
  while (start <= spec.size()) {
    const size_t comma = std::min(spec.find(',', start), spec.size());
    const std::string item = spec.substr(start, comma - start);
    int layer = -1, head = -1;
    char extra = 0;
    if (std::sscanf(item.c_str(), "%d.%d%c", &layer, &head, &extra) != 2 || layer < 0 ||
        layer >= c.n_layers || head < 0 || head >= c.n_heads)
      throw HttpError(400, cat("parameter 'heads': '", item, "' is not LAYER.HEAD of this model (",
                               c.n_layers, " layers, ", c.n_heads, " heads)"));
    heads.emplace_back(layer, head);
    start = comma + 1;
  }
  if (heads.size() > 256) throw HttpError(400, "parameter 'heads': at most 256 heads at a time");
  std::sort(heads.begin(), heads.end());
  heads.erase(std::unique(heads.begin(), heads.end()), heads.end());
  std::string key = "ablate?heads=";
  for (size_t i = 0; i < heads.size(); ++i)
    key += cat(i ? "," : "", heads[i].first, ".", heads[i].second);
  return memo(*run, key, [&] {
    if (run->plain_clean.empty())
      run->plain_clean = analysis::log_softmax(last_position_logits(model_.run(run->tokens)));
    const std::vector<double>& clean = run->plain_clean;
    Interventions iv(c.n_layers);
    json specs = json::array(), pairs = json::array();
    for (const auto& [layer, head] : heads) {
      specs.push_back(zero_head_spec(layer, head));
      pairs.push_back({layer, head});
      iv.zero(*model_.plan(zero_head_spec(layer, head)));
    }
    const std::vector<double> changed = analysis::log_softmax(
        last_position_logits(model_.run_observed(run->tokens, iv.mask(), iv)));
    Labels labels(analysis::model_labeler(model_.model()));
    json j = {{"heads", pairs},
              {"ablate", specs},
              {"top", top_json(changed, options_.top_k, labels, &clean)},
              {"clean_top", top_json(clean, options_.top_k, labels)},
              {"kl_clean_to_intervened", kl_divergence(clean, changed)}};
    j["labels"] = labels.json();
    return j;
  });
}

Reply Session::diff(const ApiRequest& r) {
  allow_params(r, {"run"});
  auto run = find_run(r);
  if (!other_) throw HttpError(404, "no second model: start the viewer with -m A -m B to compare");
  return memo(*run, "diff", [&] {
    const analysis::RunDiff d = analysis::diff_runs(
        model_, run->tokens, *other_, run->tokens,
        {.hooks =
             "hook_embed,blocks.*.hook_attn_out,blocks.*.hook_mlp_out,blocks.*.hook_resid_post",
         .threshold = 0.1});
    Labels labels(analysis::model_labeler(model_.model()));
    json j = diff_json(d, config().n_layers, labels);
    j["labels"] = labels.json();
    return j;
  });
}

}  // namespace gb::viewer
