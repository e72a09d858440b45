#include "viewer/run_capture.h"

#include <cmath>

#include "core/error.h"
#include "model/hook_sites.h"

namespace gb::viewer {

std::vector<double> row_norms(const TensorView& x) {
  const int r = x.shape.rank;
  const int64_t d = x.shape[r - 1], rows = x.numel() / d;
  std::vector<double> out(static_cast<size_t>(rows));
  for (int64_t p = 0; p < rows; ++p) {
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += double(x.data[p * d + i]) * x.data[p * d + i];
    out[size_t(p)] = std::isfinite(s) ? std::sqrt(s) : NAN;
  }
  return out;
}

int64_t count_nonfinite(const TensorView& x) {
  int64_t n = 0;
  for (float v : x.span()) n += !std::isfinite(v);
  return n;
}

namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / double(v.size());
}

}  // namespace

RunCapture::RunCapture(CaptureOptions o) : options_(std::move(o)) {
  options_.keep.resize(size_t(options_.n_layers), false);
  layers.resize(size_t(options_.n_layers));
  stats.resize(size_t(options_.n_layers));
}

std::string RunCapture::filter() const {
  std::string f;
  auto add = [&](const std::string& name) { f += (f.empty() ? "" : ",") + name; };
  if (options_.stats) {
    add("blocks.0.hook_resid_pre");
    for (const char* site : {"hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out",
                             "attn.hook_pattern", "mlp.hook_post"})
      add(std::string("blocks.*.") + site);
    return f;
  }
  // Every layer's pattern, kept or not: a materialised pattern and streaming attention round
  // differently, and a layer computed again must match the run's first pass bit for bit.
  add("blocks.*.attn.hook_pattern");
  for (int L = 0; L < options_.n_layers; ++L)
    if (options_.keep[size_t(L)]) add(cat("blocks.", L, ".mlp.hook_post"));
  return f;
}

LayerData& RunCapture::layer_data(int layer) {
  auto& d = layers[size_t(layer)];
  if (!d) {
    d = std::make_shared<LayerData>();
    d->layer = layer;
  }
  return *d;
}

void RunCapture::on_hook(const HookPoint& point, TensorView& t) {
  const int L = point.layer;
  if (point.pos0 != 0) fail("the viewer runs a prompt in one piece");
  if (options_.stats && L >= 0) {
    const std::string name(hook_site_info(point.site).name);
    stats[size_t(L)].nonfinite[name] += count_nonfinite(t);
  }
  switch (point.site) {
    case HookSite::Pattern:
      return on_pattern(L, t);
    case HookSite::MlpPost:
      return on_mlp_post(L, t);
    case HookSite::ResidPre:
      if (L == 0) embed_norm = row_norms(t);
      return;
    case HookSite::ResidPost:
      stats[size_t(L)].resid_norm = row_norms(t);
      return;
    case HookSite::AttnOut:
      stats[size_t(L)].attn_out_norm = mean_of(row_norms(t));
      return;
    case HookSite::MlpOut:
      stats[size_t(L)].mlp_out_norm = mean_of(row_norms(t));
      return;
    default:
      return;
  }
}

void RunCapture::on_pattern(int layer, const TensorView& t) {
  const int64_t heads = t.shape[1], n = t.shape[2];  // [1, n_heads, n, n]
  if (options_.stats) {
    thumb_side = thumbnail_side(n, options_.thumb_side);
    const size_t per_layer = size_t(heads * thumb_side * thumb_side);
    thumbs.resize(size_t(options_.n_layers) * per_layer);
    pattern_thumbnails(t.data, heads, n, thumb_side, thumbs.data() + size_t(layer) * per_layer);
  }
  if (!options_.keep[size_t(layer)]) return;
  LayerData& d = layer_data(layer);
  d.n_pos = n;
  d.n_heads = heads;
  d.pattern.resize(size_t(heads * packed_size(n)));
  pack_patterns(t.data, heads, n, d.pattern.data());
}

void RunCapture::on_mlp_post(int layer, const TensorView& t) {
  if (!options_.keep[size_t(layer)]) return;
  const int64_t n = t.shape[1], d_mlp = t.shape[2];  // [1, n, d_mlp]
  LayerData& d = layer_data(layer);
  d.d_mlp = d_mlp;
  d.neurons.resize(size_t(n * d_mlp));
  d.neuron_scale.resize(size_t(d_mlp));
  quantize_columns(t.data, n, d_mlp, d.neurons.data(), d.neuron_scale.data());
  d.top_neurons = top_columns(t.data, n, d_mlp, options_.top_neurons);
}

}  // namespace gb::viewer
