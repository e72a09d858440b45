// Attention as TensorBoard summaries: per layer and head the entropy and sink mass of the
// attention pattern (head_scores.h's definitions), and per layer the pattern as a heat map.
//
// An observer of blocks.*.attn.hook_pattern, every layer (mask()); it may share a forward pass
// with other observers (ObserverList) and sees the pattern in whatever chunks the run feeds.
//
// Scalars (write_scalars), step = the layer, so each chart is a line over depth:
//   attention_entropy/head_{h}   mean over queries q ≥ 1 of −Σ_k p log p (k ≤ q), nats
//   attention_sink/head_{h}      mean over queries q ≥ 1 of p[q, 0], the mass on the first token
//   attention_entropy/mean, attention_sink/mean   the same averaged over the layer's heads
// Heads are numbered with leading zeros (head_03) so that TensorBoard sorts them. The means run
// over every query row seen (all documents of a corpus); query 0 can only attend to itself and
// is left out. A head without such a query (one-token runs) gets no scalar.
//
// Heat maps (with heatmaps.positions > 0): for each layer, once all `positions` query rows of
// its pattern have been seen, one RGB image tagged attention_pattern/blocks.{L}.attn.hook_pattern
// at step L: the heads tiled row by row (export/heatmap.h layout), viridis on a fixed scale of
// 0 (dark purple) to 1 (yellow), masked future keys showing as 0. Sequences longer than
// kAttentionHeatmapSide are averaged down in f × f blocks, f = ceil(positions / 256), as they
// come, so a layer holds at most [n_heads, 256, 256] values while its rows arrive.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "export/summary_writer.h"
#include "observe/hooked_model.h"

namespace gb::analysis {

inline constexpr int64_t kAttentionHeatmapSide = 256;

struct AttentionHeatmaps {
  SummaryWriter* writer = nullptr;  // where the images go as layers complete; null: no images
  int64_t positions = 0;            // the sequence length (query rows per layer)
};

class AttentionSummaries : public Observer {
 public:
  AttentionSummaries(const HookedModel& model, AttentionHeatmaps heatmaps = {});
  ~AttentionSummaries() override;

  const HookMask& mask() const { return plan_->mask(); }
  void on_hook(const HookPoint& point, TensorView& pattern) override;

  int n_layers() const { return n_layers_; }
  int n_heads() const { return n_heads_; }
  int64_t queries(int layer, int head) const;  // query rows q ≥ 1 counted
  double entropy(int layer, int head) const;   // mean; 0 without queries
  double sink(int layer, int head) const;

  void write_scalars(SummaryWriter& writer) const;

 private:
  struct Grid;  // one layer's heat map while its rows arrive
  void add_to_grid(int layer, const TensorView& pattern, int64_t pos0);
  size_t at(int layer, int head) const { return size_t(layer * n_heads_ + head); }

  std::shared_ptr<const HookPlan> plan_;
  int n_layers_ = 0, n_heads_ = 0;
  AttentionHeatmaps heatmaps_;
  std::vector<double> entropy_sum_, sink_sum_;  // [n_layers * n_heads]
  std::vector<int64_t> count_;                  // [n_layers * n_heads]
  std::vector<std::unique_ptr<Grid>> grids_;    // [n_layers]
};

}  // namespace gb::analysis
