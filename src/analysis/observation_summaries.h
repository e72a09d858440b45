// What glassbox observes in a run, as TensorBoard summaries: the activation histograms of
// `trace` and `stats`, the logit lens as text, and `generate`'s per-token scalars. Attention
// entropy, sink mass and heat maps are in attention_summaries.h.
//
// Tags and steps. A hook's layer becomes the step and is replaced by {L} in the tag (the rule of
// weight_summaries.h), so one tag holds a hook kind at every depth — TensorBoard's histogram
// view then shows the distribution changing layer by layer:
//   activations/blocks.{L}.hook_resid_post            histogram, step L
//   activations/blocks.{L}.mlp.hook_post[neuron=0:8]  a sliced trace (the slice in the tag)
//   activations/hook_embed                            model-level hooks: step 0
//   logit_lens                                        text (Markdown tables), step 0
//   generate/entropy, generate/top1_prob, generate/token_prob, generate/token   step = token
// Histograms use the bucket rule of export/histogram.h. For attention patterns and
// scores (self-attention, causal) only the causal part is counted — the keys k ≤ q of each
// query q — as `glassbox stats` counts them; the masked future (pattern 0, score −inf) is left
// out. NaN and ±Inf are left out and reported (SummaryWriter::add_histogram).
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "analysis/activation_stats.h"
#include "analysis/attention_summaries.h"
#include "analysis/logit_lens.h"
#include "analysis/tokens.h"
#include "export/histogram.h"
#include "export/summary_writer.h"
#include "observe/activation_cache.h"
#include "observe/hook_plan.h"
#include "observe/interventions.h"

namespace gb::analysis {

// The tag and step of a hook's histogram: "activations/blocks.{L}.attn.hook_z[head=1]", L.
struct HookSummaryPlace {
  std::string tag;
  int64_t step = 0;
};
HookSummaryPlace activation_place(const HookSelection& selection);

// `trace`: one histogram per cached hook, of the values written to the trace. `positions` is
// the length of the traced sequence (for the causal part of sliced attention patterns).
void add_trace_histograms(SummaryWriter& writer, const ActivationCache& cache, const HookPlan& plan,
                          int64_t positions);

// `stats`: the histogram each hook's statistics already hold (HookStats::histogram, the same
// buckets), with min, max, sum and sum of squares from its per-channel statistics.
Histogram stats_histogram(const HookStats& hook);
void add_stats_histograms(SummaryWriter& writer, const ActivationStats& stats);

// Everything `trace --tensorboard` writes about one traced sequence, from the trace's own
// forward pass:
//   TraceSummaries summaries(model, writer, tokens);
//   summaries.add_to(observers);  // beside the trace's cache, before the run
//   ... run ..., then summaries.finish(cache, plan);
// During the run: the attention heat maps of every layer (attention_summaries.h), whatever the
// trace's hook filter, and the logit lens of the last kTraceLensPositions positions (top
// kTraceLensTopK). finish(): the histograms of the traced hooks, the attention scalars and the
// lens text.
inline constexpr int64_t kTraceLensPositions = 16;
inline constexpr int kTraceLensTopK = 5;

class TraceSummaries {
 public:
  TraceSummaries(HookedModel& model, SummaryWriter& writer, std::span<const int32_t> tokens);
  void add_to(ObserverList& observers);
  void finish(const ActivationCache& cache, const HookPlan& plan);

 private:
  const Model& model_;
  SummaryWriter& writer_;
  int64_t positions_;
  AttentionSummaries attention_;
  LensReader lens_;
};

// A token label as Markdown code: `label`, with \n \t \r, other control bytes (\xNN), the
// backtick (\x60) and the pipe (\x7c, which would end a table cell) escaped.
std::string markdown_token(const std::string& label);

// The logit lens as Markdown (tag "logit_lens", step 0): for the last position of `lens`, each
// row's top tokens and probabilities; then for every position of `lens` (its columns), each
// row's top-1 token. Probabilities with 3 decimals.
std::string logit_lens_markdown(const LogitLens& lens, const TokenLabeler& label);
void add_logit_lens_text(SummaryWriter& writer, const LogitLens& lens, const TokenLabeler& label);

// `generate`, for the token chosen at step `step` (0: the first new token) from the logits that
// predicted it: the entropy (nats) and top-1 probability of the model's distribution
// softmax(logits) — at temperature 1, whatever the sampler's settings — the probability of the
// chosen token, and the token as text ("`label` (id N)").
struct GenerationStep {
  double entropy = 0;
  double top1_prob = 0;
  double token_prob = 0;
};
GenerationStep add_generation_step(SummaryWriter& writer, int64_t step,
                                   std::span<const float> logits, int32_t token,
                                   const TokenLabeler& label);

}  // namespace gb::analysis
