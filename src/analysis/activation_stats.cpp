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

// Values per block counted from which counting is split over the model's threads. Below the
// staged blocks of decoding (kStagedValues): counted by one thread, they kept the others waiting
// (llama100m q8_0, two threads, stats/none decode @128: 0.75-0.85 -> 0.87-0.95).
constexpr int64_t kParallelValues = 1 << 14;
// Rows per other part from which a block's channel statistics are cut by rows (see count_block):
// merging one part's statistics into a hook's costs about what counting 8 of its rows does
// (about 4 ns per channel, read from another core's cache, against 0.55 ns per value).
constexpr int64_t kMergeRows = 8;
// Rows that arrive a few at a time (decoding: one per hook and step) are gathered, up to
// kStagedValues values per hook, and counted as one block: a hook's running statistics (tens of
// bytes per channel, too many to stay in cache across a forward pass) are then read and written
// once per block instead of once per row. Blocks that fill wait until a hook's next rows come (the
// next forward pass, mostly) and are counted together, each whole by one thread: one call of the
// pool for all instead of one per hook, with no parts to merge. Blocks of kStagedRows rows or more
// are counted as they come: gathered, they cost a copy to memory (the gathered blocks of all
// hooks do not stay in cache) and save little (embedded model, stats/none with each run's
// statistics complete at its end, best of 8: one thread, prefill 64 0.70 -> 0.75, prefill 128
// 0.73 -> 0.78; two threads 0.68 -> 0.69 and 0.70 -> 0.70).
constexpr int64_t kStagedValues = 32768;
constexpr int64_t kStagedRows = 16;

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
    : model_(model), options_(std::move(options)) {
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
    part_bytes_ += product(channel_shape_of(sel.point.site, c)) * ChannelStats::kBytesPerChannel +
                   ValueHistogram::kBytes;
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
    // A batch holds at most 4096 padded positions (or one window), bounding its activations.
    int64_t longest = len;
    for (const Window& w : pending_) longest = std::max(longest, w.length);
    if (int64_t(pending_.size() + 1) * longest > std::max<int64_t>(window_, 4096)) run_pending();
    pending_.push_back({doc, start, len, documents_, line});
    if (int(pending_.size()) >= std::max(1, options_.batch)) run_pending();
  }
  tokens_ += int64_t(tokens.size());
  ++documents_;
}

void ActivationStats::flush() {
  run_pending();
  // every block held back, full or not, counted in one call of the pool
  full_.clear();
  for (size_t i = 0; i < staged_.size(); ++i)
    if (staged_[i].rows > 0) full_.push_back(i);
  count_full();
  merge_kept_parts();
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
    staged_.emplace_back();
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
  const int64_t C = h.channels.channels();
  const size_t index = size_t(&h - hooks_.data());
  Staged& st = staged_[index];
  const int64_t capacity = std::max<int64_t>(1, kStagedValues / C);  // rows
  if (n < std::min(capacity, kStagedRows)) {
    if (st.rows + n > capacity) {
      count_full();         // this hook's block among them, if it is full
      count_staged(index);  // if it was not
    }
    st.values.resize(size_t(capacity * C));
    std::copy_n(rows, n * C, st.values.begin() + st.rows * C);
    st.rows += n;
    if (st.rows == capacity) full_.push_back(index);
  } else {
    count_block(h, rows, n);
  }
  h.positions += n;
  note_neurons(h, rows, n, w, pos0);
}

void ActivationStats::count_staged(size_t index) {
  Staged& st = staged_[index];
  if (st.rows == 0) return;
  count_block(hooks_[index], st.values.data(), st.rows);
  st.rows = 0;
}

void ActivationStats::count_full() {
  if (full_.empty()) return;
  model_.model().pool().parallel_for(int64_t(full_.size()), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      Staged& st = staged_[full_[size_t(i)]];
      count_serially(hooks_[full_[size_t(i)]], st.values.data(), st.rows);
      st.rows = 0;
    }
  });
  full_.clear();
}

void ActivationStats::count_serially(HookStats& h, const float* rows, int64_t n) {
  // The histogram's pass first: it reads the block in order, which the hardware prefetcher
  // follows, and leaves it in cache for the channel statistics' pass, which reads it a strip of
  // columns at a time (llama100m q8_0, one thread: stats/none decode @128 0.89-0.91 -> 0.93,
  // prefill 128 0.84-0.86 -> 0.86-0.87).
  h.histogram.add_values(rows, n * h.channels.channels());
  h.channels.add_rows(rows, n);
}

// A block of kParallelValues values or more, with T > 1 threads, is cut in T parts, one per
// thread of the pool (whichever thread takes it). Part t counts a run of rows into a histogram: h's
// for part 0, a Part's of its own for the others. Its channel statistics are cut one of two ways:
//  - by rows (rows_cut): part t counts the same run of rows as a block of its own, into h for
//    part 0 and into its Part for the others. Each thread then reads only its rows, once for both
//    passes; cut by channels, each read half of every row from the cache of the core that wrote
//    it (two threads, at the slower of this VM's two two-thread speeds, best of 5 runs:
//    stats/none 0.79 -> 0.84 at prefill 128 and 0.82 -> 0.88 at 512, llama100m q8_0 and q4_0;
//    the same at the faster speed).
//  - by channels: part t counts whole strips of a range of channels, of every row, into h,
//    exactly as serially.
// When T − 1 copies of every hook's statistics fit in options_.part_memory, each hook has Parts of
// its own, kept until flush() merges them. Else one set of Parts serves every hook and is merged
// after each block, by the caller alone: each part reads C × 76 bytes from another core's cache
// (1.1 ms of a 49 ms two-thread prefill pass, llama100m q8_0 at 128 tokens; in parallel by
// channel ranges, the hook's statistics moved between the cores' caches: slower). That cost
// grows with T while each part's counting shrinks, so then rows are cut only when each part has
// kMergeRows rows per other part (n >= 16 at two threads, 96 at four, 448 at eight), which bounds
// the merges by the counting. Only two threads could be measured here; that bound is reckoned,
// not measured.
void ActivationStats::count_block(HookStats& h, const float* rows, int64_t n) {
  const int64_t C = h.channels.channels();
  ThreadPool& pool = model_.model().pool();
  const int64_t T = pool.size();
  if (n * C < kParallelValues || T == 1) {
    count_serially(h, rows, n);
    return;
  }
  const bool keep = (T - 1) * part_bytes_ <= options_.part_memory;
  const bool rows_cut = keep || n >= kMergeRows * T * (T - 1);
  std::vector<Part>& parts = keep ? kept_parts(size_t(&h - hooks_.data()), T) : shared_parts(T, C);
  pool.parallel_for(T, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t r0 = n * t / T, r1 = n * (t + 1) / T;
      ValueHistogram& hist = t == 0 ? h.histogram : parts[size_t(t - 1)].histogram;
      hist.add_values(rows + r0 * C, (r1 - r0) * C);
      if (rows_cut) {
        ChannelStats& channels = t == 0 ? h.channels : parts[size_t(t - 1)].channels;
        channels.add_rows(rows + r0 * C, r1 - r0);
      } else {
        const int64_t c0 = C * t / T / 16 * 16, c1 = t + 1 == T ? C : C * (t + 1) / T / 16 * 16;
        h.channels.add_rows(rows, n, c0, c1);
      }
    }
  });
  if (keep) return;
  for (Part& p : parts) merge_part(h, p, rows_cut);
}

std::vector<ActivationStats::Part>& ActivationStats::kept_parts(size_t index, int64_t T) {
  if (kept_.size() <= index) kept_.resize(index + 1);
  std::vector<Part>& parts = kept_[index];
  if (parts.size() < size_t(T - 1))
    parts.resize(
        size_t(T - 1),
        Part{{}, ChannelStats(hooks_[index].channels.channels(), options_.fire_threshold)});
  return parts;
}

std::vector<ActivationStats::Part>& ActivationStats::shared_parts(int64_t T, int64_t C) {
  if (shared_.size() < size_t(T - 1)) shared_.resize(size_t(T - 1));
  for (Part& p : shared_)
    if (p.channels.channels() != C) p.channels = ChannelStats(C, options_.fire_threshold);
  return shared_;
}

void ActivationStats::merge_part(HookStats& h, Part& p, bool channels) {
  h.histogram.merge(p.histogram);
  p.histogram.clear();
  if (!channels) return;
  h.channels.merge(p.channels);
  p.channels.reset(h.channels.channels());
}

void ActivationStats::merge_kept_parts() {
  // each hook's parts merged by one thread
  model_.model().pool().parallel_for(int64_t(kept_.size()), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (Part& p : kept_[size_t(i)]) merge_part(hooks_[size_t(i)], p, true);
  });
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
