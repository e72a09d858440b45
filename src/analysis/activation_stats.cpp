#include "analysis/activation_stats.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/npy.h"

namespace gb::analysis {

const char* const kDefaultStatsHooks =
    "blocks.*.hook_resid_pre,blocks.*.hook_resid_mid,blocks.*.hook_resid_post,"
    "blocks.*.hook_attn_out,blocks.*.hook_mlp_out,blocks.*.mlp.hook_pre,blocks.*.mlp.hook_post";

namespace {

// Padded positions up to which windows are batched into one forward pass: enough rows for the
// products to run at matrix-matrix speed. More only cost: padding, attention over it, and
// activations too large for the cache. `glassbox stats --batch 32`, two threads, best of 3
// (seconds; 256 / 512 / 4096, the bound before): llama100m q8_0, 1000 documents of 5-30 words
// 13.9 / 14.9 / 15.9, 60 of 60-400 words 7.5 / 7.9 / 13.0; the embedded model, 300 of 60-400
// words 1.66 / 2.10 / 2.31, 1500 of 5-30 words 0.95 / 0.96 / 0.92.
constexpr int64_t kBatchPositions = 256;

bool is_attention_matrix(HookSite s) {
  return s == HookSite::AttnScores || s == HookSite::Pattern || s == HookSite::CrossScores ||
         s == HookSite::CrossPattern;
}

// The size of each axis after the position axis, for a hook of this model.
std::vector<int64_t> channel_shape_of(HookSite site, const ModelConfig& c) {
  const HookSiteInfo& info = hook_site_info(site);
  if (is_attention_matrix(site)) return {c.n_heads};
  std::vector<int64_t> shape;
  for (int i = 2; i < info.rank; ++i) shape.push_back(axis_size(info.axes[i], c, RunDims{}));
  return shape;
}

int64_t product(const std::vector<int64_t>& v) {
  int64_t n = 1;
  for (int64_t x : v) n *= x;
  return n;
}

}  // namespace

NeuronRef parse_neuron(const std::string& spec) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    usage_fail("neuron '", spec, "': expected HOOK:CHANNEL, e.g. blocks.1.mlp.hook_post:37");
  NeuronRef n{spec.substr(0, colon), 0};
  size_t used = 0;
  try {
    n.channel = std::stoll(spec.substr(colon + 1), &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != spec.size() - colon - 1 || n.channel < 0)
    usage_fail("neuron '", spec, "': '", spec.substr(colon + 1), "' is not a channel index");
  return n;
}

ActivationStats::ActivationStats(HookedModel& model, StatsOptions options)
    : model_(model),
      options_(std::move(options)),
      counter_(model.model(), options_.fire_threshold, options_.part_memory) {
  const ModelConfig& c = model.model().config();
  if (options_.top_k <= 0) usage_fail("top-k must be positive");
  if (options_.context_before < 0 || options_.context_after < 0)
    usage_fail("context sizes must not be negative");
  std::string filter = options_.hooks;
  for (const NeuronRef& n : options_.neurons) {
    const CatalogEntry* entry = nullptr;
    for (const auto& e : model.catalog().entries)
      if (e.name == n.hook) entry = &e;
    if (!entry) usage_fail("neuron ", n.hook, ":", n.channel, ": no hook named ", n.hook);
    if (is_attention_matrix(entry->point.site))
      usage_fail("neuron ", n.hook, ": attention patterns have no neurons");
    const int64_t channels = product(channel_shape_of(entry->point.site, c));
    if (n.channel >= channels)
      usage_fail("neuron ", n.hook, ":", n.channel, ": the hook has ", channels, " channels");
    filter += "," + n.hook;
    contexts_.push_back({n, {}});
  }
  plan_ = model.plan(filter);
  for (const HookSelection& sel : plan_->selections())
    if (sel.sliced())
      usage_fail("statistics cover whole hooks: slices like [head=..] / [pos=..] (", sel.name,
                 ") are not supported here");
  hook_index_.assign(plan_->selections().size(), -1);
  for (const HookSelection& sel : plan_->selections())
    counter_.expect_hook(product(channel_shape_of(sel.point.site, c)));
  window_ = options_.window > 0 ? options_.window : std::min<int64_t>(c.n_ctx, 1024);
  if (options_.batch < 1) usage_fail("the batch must hold at least one window");
  if (window_ <= 0) usage_fail("the window must be positive");
  if (c.family == Family::Gpt2 && window_ > c.n_ctx)
    usage_fail("window of ", window_, " positions exceeds the model's ", c.n_ctx,
               " learned positions");
}

void ActivationStats::add_document(std::span<const int32_t> tokens, int64_t line) {
  if (tokens.empty()) return;
  const auto doc = std::make_shared<const std::vector<int32_t>>(tokens.begin(), tokens.end());
  if (int64_t(tokens.size()) > window_) ++split_;
  for (int64_t start = 0; start < int64_t(tokens.size()); start += window_) {
    const int64_t len = std::min<int64_t>(window_, int64_t(tokens.size()) - start);
    // A batch grows only while it holds at most kBatchPositions padded positions; a longer
    // window runs alone.
    int64_t longest = len;
    for (const Window& w : pending_) longest = std::max(longest, w.length);
    if (!pending_.empty() && int64_t(pending_.size() + 1) * longest > kBatchPositions)
      run_pending();
    pending_.push_back({doc, start, len, documents_, line});
    if (int(pending_.size()) >= std::max(1, options_.batch)) run_pending();
  }
  tokens_ += int64_t(tokens.size());
  ++documents_;
}

void ActivationStats::flush() {
  run_pending();
  counter_.flush(hooks_);
}

void ActivationStats::run_pending() {
  if (pending_.empty()) return;
  std::vector<std::span<const int32_t>> rows;
  for (const Window& w : pending_)
    rows.push_back(std::span(*w.doc).subspan(size_t(w.offset), size_t(w.length)));
  try {
    if (observers_)
      model_.run_batch_observed(rows, observers_->mask(), *observers_);
    else
      model_.run_batch_observed(rows, plan_->mask(), *this);
  } catch (...) {
    pending_.clear();
    throw;
  }
  pending_.clear();
}

void ActivationStats::also_observe(Observer& observer, const HookMask& mask) {
  run_pending();
  options_.batch = 1;
  if (!observers_) {
    observers_ = std::make_unique<ObserverList>(model_.model().config().n_layers);
    observers_->add(*this, plan_->mask());
  }
  observers_->add(observer, mask);
}

HookStats& ActivationStats::stats_for(size_t selection, const TensorView& t) {
  int& index = hook_index_[selection];
  if (index < 0) {
    const HookSelection& sel = plan_->selections()[selection];
    HookStats h;
    h.name = sel.name;
    h.point = sel.point;
    h.channel_shape = channel_shape_of(sel.point.site, model_.model().config());
    h.channels = ChannelStats(product(h.channel_shape), options_.fire_threshold);
    index = int(hooks_.size());
    hooks_.push_back(std::move(h));
  }
  return hooks_[size_t(index)];
}

void ActivationStats::on_hook(const HookPoint& point, TensorView& t) {
  const HookSelection* sel = plan_->find(point);
  if (!sel) return;
  HookStats& h = stats_for(size_t(sel - plan_->selections().data()), t);
  // Batch row b holds window pending_[b]; its rows past the window's length are padding. Seen
  // from a forward pass this class did not start, every row counts.
  static const Window whole{nullptr, 0, INT64_MAX / 2, 0, 0};
  const int64_t per_row = t.numel() / t.shape[0];
  for (int64_t b = 0; b < t.shape[0]; ++b) {
    const Window& w = size_t(b) < pending_.size() ? pending_[size_t(b)] : whole;
    const float* data = t.data + b * per_row;
    if (is_attention_matrix(point.site)) {
      const int64_t q_len = t.shape[2];
      count_attention(h, point, data, t.shape[1], q_len, std::min(q_len, w.length), t.shape[3]);
    } else {
      const int64_t C = h.channels.channels();
      const int64_t n = std::min(per_row / C, w.length - point.pos0);
      count_rows(h, data, n, w, point.pos0);
    }
  }
}

void ActivationStats::count_attention(HookStats& h, const HookPoint& point, const float* m,
                                      int64_t heads, int64_t q_len, int64_t q_valid,
                                      int64_t k_len) {
  // [n_heads, q, k]: each query row's keys 0 .. pos0 + q (all keys for cross-attention).
  const bool causal = point.site == HookSite::AttnScores || point.site == HookSite::Pattern;
  for (int64_t hd = 0; hd < heads; ++hd)
    for (int64_t q = 0; q < q_valid; ++q) {
      const float* row = m + (hd * q_len + q) * k_len;
      const int64_t n = causal ? std::min(k_len, point.pos0 + q + 1) : k_len;
      h.channels.add_values(hd, {row, size_t(n)});
      h.histogram.add_values(row, n);
    }
  h.positions += q_valid;
}

void ActivationStats::count_rows(HookStats& h, const float* rows, int64_t n, const Window& w,
                                 int64_t pos0) {
  counter_.add(hooks_, size_t(&h - hooks_.data()), rows, n);
  h.positions += n;
  note_neurons(h, rows, n, w, pos0);
}

void ActivationStats::note_neurons(const HookStats& h, const float* rows, int64_t n,
                                   const Window& w, int64_t pos0) {
  if (!w.doc) return;
  const int64_t C = h.channels.channels();
  const std::vector<int32_t>& doc = *w.doc;
  for (NeuronContexts& nc : contexts_) {
    if (nc.neuron.hook != h.name) continue;
    auto& top = nc.top;
    for (int64_t r = 0; r < n; ++r) {
      const float v = rows[r * C + nc.neuron.channel];
      if (!std::isfinite(v)) continue;
      if (int(top.size()) == options_.top_k && v <= top.back().value) continue;
      const int64_t pos = w.offset + pos0 + r;
      const int64_t from = std::max<int64_t>(0, pos - options_.context_before);
      const int64_t to = std::min<int64_t>(int64_t(doc.size()), pos + options_.context_after + 1);
      ActivatingContext ctx{v,
                            w.document,
                            w.line,
                            pos,
                            std::vector<int32_t>(doc.begin() + from, doc.begin() + to),
                            pos - from};
      auto at = std::upper_bound(top.begin(), top.end(), v,
                                 [](float x, const ActivatingContext& c) { return x > c.value; });
      top.insert(at, std::move(ctx));
      if (int(top.size()) > options_.top_k) top.pop_back();
    }
  }
}

std::vector<NeuronActivity> ActivationStats::neuron_activity() const {
  std::vector<NeuronActivity> out;
  for (const HookStats& h : hooks_) {
    if (h.point.site != HookSite::MlpPre) continue;
    NeuronActivity a{h.name, h.point.layer, h.channels.channels(), {}, {}, {}};
    for (int64_t c = 0; c < a.neurons; ++c) {
      const int64_t n = h.channels.count[size_t(c)];
      const double f = n > 0 ? double(h.channels.above[size_t(c)]) / double(n) : 0.0;
      a.fire_fraction.push_back(f);
      if (h.channels.above[size_t(c)] == 0)
        a.dead.push_back(c);
      else if (f < options_.rare_fraction)
        a.rare.push_back(c);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<MassiveChannel> ActivationStats::massive_channels() const {
  std::vector<MassiveChannel> out;
  for (const HookStats& h : hooks_) {
    if (is_attention_matrix(h.point.site) || h.channels.channels() < 2) continue;
    const double median = h.histogram.median_abs();
    if (median <= 0) continue;
    for (int64_t c = 0; c < h.channels.channels(); ++c) {
      const float m = h.channels.abs_max[size_t(c)];
      if (double(m) > options_.massive_factor * median)
        out.push_back({h.name, h.point.layer, c, m, median, double(m) / median});
    }
  }
  return out;
}

std::vector<NeuronContexts> ActivationStats::top_contexts() const {
  return contexts_;
}

namespace {

using nlohmann::json;

json hook_summary(const HookStats& h) {
  const ChannelStats& s = h.channels;
  int64_t count = 0, zeros = 0, nans = 0, infs = 0;
  double mean = 0, m2 = 0, amax = 0;
  float mn = INFINITY, mx = -INFINITY;
  for (int64_t c = 0; c < s.channels(); ++c) {
    const size_t i = size_t(c);
    nans += s.nans[i];
    infs += s.infs[i];
    zeros += s.zeros[i];
    if (s.count[i] == 0) continue;
    const int64_t total = count + s.count[i];
    const double delta = s.mean[i] - mean;
    mean += delta * double(s.count[i]) / double(total);
    m2 += s.m2[i] + delta * delta * double(count) * double(s.count[i]) / double(total);
    count = total;
    mn = std::min(mn, s.min[i]);
    mx = std::max(mx, s.max[i]);
    amax = std::max(amax, double(s.abs_max[i]));
  }
  json j = {{"name", h.name},
            {"layer", h.point.layer},
            {"channel_shape", h.channel_shape},
            {"positions", h.positions},
            {"count", count},
            {"nan", nans},
            {"inf", infs}};
  if (count > 0) {
    j["mean"] = mean;
    j["std"] = std::sqrt(m2 / double(count));
    j["min"] = mn;
    j["max"] = mx;
    j["abs_max"] = amax;
    j["zero_fraction"] = double(zeros) / double(count);
    j["median_abs"] = h.histogram.median_abs();
  }
  j["histogram"] = {{"edges", h.histogram.span_edges()}, {"counts", h.histogram.span_counts()}};
  return j;
}

}  // namespace

json to_json(const ActivationStats& s, const TokenLabeler& label) {
  const StatsOptions& o = s.options();
  json j = {{"analysis", "activation_stats"},
            {"documents", s.documents()},
            {"tokens", s.tokens()},
            {"window", s.window()},
            {"split_documents", s.split_documents()},
            {"fire_threshold", o.fire_threshold},
            {"rare_fraction", o.rare_fraction},
            {"massive_factor", o.massive_factor},
            {"hooks", json::array()}};
  for (const HookStats& h : s.hooks()) j["hooks"].push_back(hook_summary(h));
  json neurons = json::array();
  for (const NeuronActivity& a : s.neuron_activity())
    neurons.push_back({{"hook", a.hook},
                       {"layer", a.layer},
                       {"neurons", a.neurons},
                       {"dead", a.dead},
                       {"rare", a.rare}});
  j["mlp_neurons"] = neurons;
  json massive = json::array();
  for (const MassiveChannel& m : s.massive_channels())
    massive.push_back({{"hook", m.hook},
                       {"layer", m.layer},
                       {"channel", m.channel},
                       {"abs_max", m.abs_max},
                       {"median_abs", m.median_abs},
                       {"ratio", m.ratio}});
  j["massive_channels"] = massive;
  json contexts = json::array();
  for (const NeuronContexts& nc : s.top_contexts()) {
    json top = json::array();
    for (const ActivatingContext& c : nc.top) {
      json strings = json::array();
      for (int32_t id : c.context) strings.push_back(label(id));
      top.push_back({{"value", c.value},
                     {"document", c.document},
                     {"line", c.line},
                     {"position", c.position},
                     {"context", c.context},
                     {"context_strings", strings},
                     {"at", c.at}});
    }
    contexts.push_back({{"hook", nc.neuron.hook}, {"channel", nc.neuron.channel}, {"top", top}});
  }
  j["top_contexts"] = contexts;
  return j;
}

std::vector<std::string> write_stats(const std::string& dir, const ActivationStats& s,
                                     const json& stats_json) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail(dir, ": cannot create output directory: ", ec.message());
  const fs::path manifest = fs::path(dir) / "stats.json";
  fs::remove(manifest, ec);  // an old summary must not describe new, partial files
  std::vector<std::string> written;
  json files = json::object();
  for (const HookStats& h : s.hooks()) {
    const fs::path sub = fs::path(dir) / h.name;
    fs::create_directories(sub, ec);
    if (ec) fail(sub.string(), ": cannot create directory: ", ec.message());
    const ChannelStats& c = h.channels;
    const std::vector<int64_t>& shape = h.channel_shape;
    auto put = [&](const std::string& field, const auto& values, const std::vector<int64_t>& shp) {
      const std::string file = h.name + "/" + field + ".npy";
      io::write_npy((fs::path(dir) / file).string(), values.data(), shp);
      written.push_back(file);
    };
    std::vector<double> var(c.mean.size()), mean_abs(c.mean.size());
    for (int64_t i = 0; i < c.channels(); ++i) {
      var[size_t(i)] = c.variance(i);
      mean_abs[size_t(i)] =
          c.count[size_t(i)] ? c.sum_abs[size_t(i)] / double(c.count[size_t(i)]) : 0;
    }
    put("count", c.count, shape);
    put("zeros", c.zeros, shape);
    put("above", c.above, shape);
    put("nan", c.nans, shape);
    put("inf", c.infs, shape);
    put("mean", c.mean, shape);
    put("var", var, shape);
    put("mean_abs", mean_abs, shape);
    put("min", c.min, shape);
    put("max", c.max, shape);
    put("abs_max", c.abs_max, shape);
    const std::vector<int64_t> counts = h.histogram.span_counts();
    const std::vector<double> edges = h.histogram.span_edges();
    put("hist_counts", counts, {int64_t(counts.size())});
    put("hist_edges", edges, {int64_t(edges.size())});
  }
  io::write_file_atomically(manifest.string(), stats_json.dump(2) + "\n");
  written.push_back("stats.json");
  return written;
}

}  // namespace gb::analysis
