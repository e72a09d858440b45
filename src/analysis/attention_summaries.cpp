#include "analysis/attention_summaries.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "analysis/head_scores.h"
#include "analysis/weight_summaries.h"
#include "core/error.h"

namespace gb::analysis {

// Sums of the pattern over f × f blocks of (query, key) cells, per head, until every query row
// of the layer has been added.
struct AttentionSummaries::Grid {
  int64_t factor = 1;        // f: positions per cell along each axis
  int64_t side = 0;          // cells per axis: ceil(positions / f)
  std::vector<double> sums;  // [n_heads, side, side]
  int64_t rows_seen = 0;
};

AttentionSummaries::AttentionSummaries(const HookedModel& model, AttentionHeatmaps heatmaps)
    : plan_(model.plan("blocks.*.attn.hook_pattern")),
      n_layers_(model.model().config().n_layers),
      n_heads_(model.model().config().n_heads),
      heatmaps_(heatmaps),
      entropy_sum_(size_t(n_layers_ * n_heads_), 0.0),
      sink_sum_(size_t(n_layers_ * n_heads_), 0.0),
      count_(size_t(n_layers_ * n_heads_), 0),
      grids_(size_t(n_layers_)) {
  if (heatmaps_.writer && heatmaps_.positions <= 0)
    fail("attention heat maps need the sequence length, got ", heatmaps_.positions);
}

AttentionSummaries::~AttentionSummaries() = default;

void AttentionSummaries::on_hook(const HookPoint& point, TensorView& t) {
  if (point.stack != Stack::Main || point.site != HookSite::Pattern) return;
  // t: [1, n_heads, q_len, k_len]; query row q is position pos0 + q, keys 0 .. pos0 + q.
  const int64_t q_len = t.shape[2], k_len = t.shape[3];
  if (t.shape[1] != n_heads_)
    fail("attention summaries: layer ", point.layer, " has ", t.shape[1], " heads, expected ",
         n_heads_);
  for (int h = 0; h < n_heads_; ++h) {
    for (int64_t q = 0; q < q_len; ++q) {
      const int64_t position = point.pos0 + q;
      if (position == 0 || position >= k_len) continue;
      const RowShape r = attention_row_shape(t.data + (int64_t(h) * q_len + q) * k_len, position);
      entropy_sum_[at(point.layer, h)] += r.entropy;
      sink_sum_[at(point.layer, h)] += r.sink;
      ++count_[at(point.layer, h)];
    }
  }
  if (heatmaps_.writer) add_to_grid(point.layer, t, point.pos0);
}

void AttentionSummaries::add_to_grid(int layer, const TensorView& t, int64_t pos0) {
  const int64_t n = heatmaps_.positions, q_len = t.shape[2], k_len = t.shape[3];
  std::unique_ptr<Grid>& g = grids_[size_t(layer)];
  if (!g) {
    g = std::make_unique<Grid>();
    g->factor = (n + kAttentionHeatmapSide - 1) / kAttentionHeatmapSide;
    g->side = (n + g->factor - 1) / g->factor;
    g->sums.assign(size_t(n_heads_ * g->side * g->side), 0.0);
  }
  if (pos0 + q_len > n || k_len > n || g->rows_seen + q_len > n)
    fail("attention heat map of layer ", layer, ": more query rows than the ", n,
         " positions of the run");
  const int64_t f = g->factor, side = g->side;
  for (int64_t h = 0; h < n_heads_; ++h)
    for (int64_t q = 0; q < q_len; ++q) {
      const float* row = t.data + (h * q_len + q) * k_len;                  // [k_len]
      double* cells = g->sums.data() + (h * side + (pos0 + q) / f) * side;  // [side]
      for (int64_t k = 0; k < k_len; ++k) cells[k / f] += row[k];
    }
  g->rows_seen += q_len;
  if (g->rows_seen < n) return;

  // Every row is in: block means (keys never shown, the masked future, count as 0).
  std::vector<float> means(g->sums.size());  // [n_heads, side, side]
  for (int64_t h = 0; h < n_heads_; ++h)
    for (int64_t i = 0; i < side; ++i)
      for (int64_t j = 0; j < side; ++j) {
        const int64_t rows = std::min(f, n - i * f), cols = std::min(f, n - j * f);
        const size_t c = size_t((h * side + i) * side + j);
        means[c] = float(g->sums[c] / double(rows * cols));
      }
  g.reset();
  const SummaryPlace place = summary_place(hook_name(Stack::Main, layer, HookSite::Pattern));
  heatmaps_.writer->add_heatmap("attention_pattern/" + place.tag,
                                {.values = means, .tiles = n_heads_, .rows = side, .cols = side},
                                place.step,
                                {.colormap = Colormap::Viridis, .vmin = 0.0f, .vmax = 1.0f});
}

int64_t AttentionSummaries::queries(int layer, int head) const {
  return count_[at(layer, head)];
}

double AttentionSummaries::entropy(int layer, int head) const {
  const int64_t n = queries(layer, head);
  return n > 0 ? entropy_sum_[at(layer, head)] / double(n) : 0.0;
}

double AttentionSummaries::sink(int layer, int head) const {
  const int64_t n = queries(layer, head);
  return n > 0 ? sink_sum_[at(layer, head)] / double(n) : 0.0;
}

void AttentionSummaries::write_scalars(SummaryWriter& writer) const {
  const int digits = int(std::to_string(std::max(n_heads_ - 1, 0)).size());
  for (int layer = 0; layer < n_layers_; ++layer) {
    double entropy_total = 0, sink_total = 0;
    int heads = 0;
    for (int h = 0; h < n_heads_; ++h) {
      if (queries(layer, h) == 0) continue;
      char head[32];
      std::snprintf(head, sizeof head, "head_%0*d", digits, h);
      writer.add_scalar(cat("attention_entropy/", head), float(entropy(layer, h)), layer);
      writer.add_scalar(cat("attention_sink/", head), float(sink(layer, h)), layer);
      entropy_total += entropy(layer, h);
      sink_total += sink(layer, h);
      ++heads;
    }
    if (heads == 0) continue;
    writer.add_scalar("attention_entropy/mean", float(entropy_total / heads), layer);
    writer.add_scalar("attention_sink/mean", float(sink_total / heads), layer);
  }
}

}  // namespace gb::analysis
