// Activation statistics over one prompt or a whole corpus, streamed: memory grows with the
// number of channels observed, never with the number of tokens.
//
// For every selected hook: per channel count, mean, variance, min, max, abs-max, zero fraction,
// NaN / Inf counts and the count above a firing threshold (ChannelStats), and a histogram of all
// its values (ValueHistogram). A hook's channels are the axes after the position axis
// ([d_model], [n_heads, d_head], [d_mlp], ...); for attention patterns and scores a channel is a
// head, and only the causal part (keys ≤ query) is counted.
// From those:
//  - dead and rarely firing MLP neurons: mlp.hook_pre above the firing threshold never, or in
//    less than a given fraction of positions (a neuron "fires" when its pre-activation exceeds
//    the threshold: GELU/SiLU output is then positive);
//  - massive activation channels: channels whose abs-max exceeds `massive_factor` × the median
//    |x| of their hook (the median read from the histogram, to within one of its buckets);
//  - the top-k activating contexts of chosen neurons.
// Documents longer than the window are split into windows, each run from an empty KV cache.
// Windows are run up to `batch` at a time in one forward pass, while the batch holds at most 256
// padded positions (right-padded to the longest; the padding is not counted), so a corpus of short
// documents runs at matrix-matrix speed. Rows that arrive a few at a time (decoding) are counted in
// blocks of several (BlockCounter). flush() runs the windows still queued, counts the rows still
// held, and must come before the results are read. As a plain Observer of a forward pass it did not
// start, it counts every row it is shown (no top contexts then).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

#include "analysis/block_counter.h"
#include "analysis/hook_stats.h"
#include "analysis/tokens.h"
#include "observe/hooked_model.h"
#include "observe/interventions.h"

namespace gb::analysis {

// resid_pre/mid/post, attn_out, mlp_out, mlp.hook_pre, mlp.hook_post of every block.
extern const char* const kDefaultStatsHooks;

struct NeuronRef {
  std::string hook;  // "blocks.1.mlp.hook_post"
  int64_t channel = 0;
};
// "blocks.1.mlp.hook_post:37"; throws UsageError.
NeuronRef parse_neuron(const std::string& spec);

struct StatsOptions {
  std::string hooks = kDefaultStatsHooks;  // a hook filter (HookPlan syntax)
  float fire_threshold = 0.0f;
  double rare_fraction = 0.01;    // "rarely firing": fires in fewer than this fraction
  double massive_factor = 100.0;  // "massive": abs-max > factor × the hook's median |x|
  std::vector<NeuronRef> neurons = {};
  int top_k = 10;          // contexts kept per neuron
  int context_before = 8;  // tokens shown before an activating token
  int context_after = 2;   // and after it
  int64_t window = 0;      // positions per forward pass; 0: min(n_ctx, 1024)
  int batch = 1;           // windows per forward pass, at most (1: each document run when added)
  // Memory the threads' own statistics may take: with T threads, a block is counted in T parts,
  // of which T - 1 count into statistics of their own. When T - 1 copies of every hook's
  // statistics fit in this many bytes, each hook keeps them until flush(); else they are merged
  // into the hook's after each block.
  int64_t part_memory = int64_t(64) << 20;
};

struct NeuronActivity {
  std::string hook;  // the mlp.hook_pre it was read from
  int layer = 0;
  int64_t neurons = 0;
  std::vector<int64_t> dead;          // never fired
  std::vector<int64_t> rare;          // fired, in less than rare_fraction of positions
  std::vector<double> fire_fraction;  // [neurons]
};

struct MassiveChannel {
  std::string hook;
  int layer = 0;
  int64_t channel = 0;
  float abs_max = 0;
  double median_abs = 0;  // of the hook
  double ratio = 0;       // abs_max / median_abs
};

struct ActivatingContext {
  float value = 0;
  int64_t document = 0;          // 0-based, in the order given
  int64_t line = 0;              // the corpus line, when from a corpus
  int64_t position = 0;          // within the document
  std::vector<int32_t> context;  // tokens around it
  int64_t at = 0;                // index of the activating token in `context`
};

struct NeuronContexts {
  NeuronRef neuron;
  std::vector<ActivatingContext> top;  // by decreasing value
};

class ActivationStats : public Observer {
 public:
  ActivationStats(HookedModel& model, StatsOptions options);

  // Queues one document's windows and runs every full batch of them (with batch = 1: runs the
  // document now).
  void add_document(std::span<const int32_t> tokens, int64_t line = 0);
  // Runs the windows still queued and counts the rows still held back.
  void flush();
  // Also shows `observer` the hooks of `mask` in the same forward passes (e.g. the attention
  // summaries of `stats --tensorboard`). Both must outlive this object's runs. Observers see one
  // window per pass, so from here on windows are run one at a time.
  void also_observe(Observer& observer, const HookMask& mask);

  int64_t documents() const { return documents_; }
  int64_t tokens() const { return tokens_; }
  int64_t split_documents() const { return split_; }  // longer than the window
  int64_t window() const { return window_; }
  const StatsOptions& options() const { return options_; }
  const std::vector<HookStats>& hooks() const { return hooks_; }

  std::vector<NeuronActivity> neuron_activity() const;
  std::vector<MassiveChannel> massive_channels() const;
  std::vector<NeuronContexts> top_contexts() const;

  void on_hook(const HookPoint& point, TensorView& tensor) override;

 private:
  // A stretch of one document run as one batch row.
  struct Window {
    std::shared_ptr<const std::vector<int32_t>> doc;  // the whole document
    int64_t offset = 0, length = 0;                   // the window within it
    int64_t document = 0, line = 0;                   // 0-based index; corpus line
  };

  void run_pending();
  HookStats& stats_for(size_t selection, const TensorView& t);
  // rows [rows, channels] of one batch row, from position pos0 of window w.
  void count_rows(HookStats& h, const float* rows, int64_t n, const Window& w, int64_t pos0);
  // One batch row's [n_heads, q_len, k_len] attention matrix, of which q_valid queries are real.
  void count_attention(HookStats& h, const HookPoint& point, const float* m, int64_t heads,
                       int64_t q_len, int64_t q_valid, int64_t k_len);
  void note_neurons(const HookStats& h, const float* rows, int64_t n, const Window& w,
                    int64_t pos0);

  HookedModel& model_;
  StatsOptions options_;
  BlockCounter counter_;  // counts rows into hooks_
  std::shared_ptr<const HookPlan> plan_;
  int64_t window_ = 0;
  std::vector<HookStats> hooks_;
  std::vector<int> hook_index_;  // selection index -> hooks_ index, -1 until first seen
  std::vector<NeuronContexts> contexts_;
  std::unique_ptr<ObserverList> observers_;  // this and the others, when also_observe was called
  std::vector<Window> pending_;  // queued windows; during a forward pass, its batch rows
  int64_t documents_ = 0, tokens_ = 0, split_ = 0;
};

nlohmann::json to_json(const ActivationStats& s, const TokenLabeler& label = id_label);

// Writes `dir`/stats.json (the JSON above) and per hook `dir`/<hook>/<field>.npy: count, zeros,
// above, nan, inf (int64), mean, var, mean_abs (float64), min, max, abs_max (float32) of shape
// channel_shape, and hist_counts (int64) / hist_edges (float64) of the non-empty histogram span.
// stats.json is written last. Returns the files written.
std::vector<std::string> write_stats(const std::string& dir, const ActivationStats& s,
                                     const nlohmann::json& stats_json);

}  // namespace gb::analysis
