// RunCapture: the observer behind a viewer run. It sees one forward pass over the prompt and
// keeps what the page shows, in compact form, as each hook goes by (no layer's full-precision
// pattern outlives its hook):
//   per layer (for the layers asked to keep): the packed attention patterns, the 8-bit MLP
//     activations (mlp.hook_post) and the top neurons;
//   per layer, always: pattern thumbnails, residual-stream norms by position, attention- and
//     MLP-output norms, and the count of non-finite values at each hook.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/hooks.h"
#include "viewer/compact.h"

namespace gb::viewer {

// One layer of a run as the head view and the neuron view draw it.
struct LayerData {
  int layer = 0;
  int64_t n_pos = 0, n_heads = 0, d_mlp = 0;
  std::vector<uint8_t> pattern;         // [n_heads, n_pos(n_pos+1)/2], see pack_patterns
  std::vector<int8_t> neurons;          // [n_pos, d_mlp] mlp.hook_post ≈ q · neuron_scale
  std::vector<float> neuron_scale;      // [d_mlp]
  std::vector<NeuronPeak> top_neurons;  // by decreasing max activation

  size_t bytes() const { return pattern.size() + neurons.size() + 4 * neuron_scale.size(); }
  // What LayerData of this size will take, for the memory budget before a run.
  static size_t bytes_for(int64_t n_pos, int64_t n_heads, int64_t d_mlp) {
    return size_t(n_heads * packed_size(n_pos) + n_pos * d_mlp + 4 * d_mlp);
  }
};

// Per-layer numbers of the statistics panel.
struct LayerStats {
  std::vector<double> resid_norm;            // [n_pos] ‖resid_post‖ at each position
  double attn_out_norm = 0;                  // mean over positions of ‖attn_out‖
  double mlp_out_norm = 0;                   // ... of ‖mlp_out‖
  std::map<std::string, int64_t> nonfinite;  // hook name (without "blocks.L.") -> NaN/Inf count
};

struct CaptureOptions {
  int n_layers = 0;
  std::vector<bool> keep;  // [n_layers]: keep LayerData of this layer
  bool stats = true;       // thumbnails and statistics of every layer
  int64_t thumb_side = 32;
  int top_neurons = 24;
};

class RunCapture : public Observer {
 public:
  explicit RunCapture(CaptureOptions o);

  // The hook filter the capture needs (HookPlan syntax).
  std::string filter() const;
  void on_hook(const HookPoint& point, TensorView& tensor) override;

  // Results, after the forward pass.
  std::vector<std::shared_ptr<LayerData>> layers;  // [n_layers], null where not kept
  std::vector<LayerStats> stats;                   // [n_layers]
  std::vector<double> embed_norm;                  // [n_pos] ‖resid_pre‖ of block 0
  std::vector<uint8_t> thumbs;                     // [n_layers, n_heads, t, t]
  int64_t thumb_side = 0;                          // t

 private:
  LayerData& layer_data(int layer);
  void on_pattern(int layer, const TensorView& t);
  void on_mlp_post(int layer, const TensorView& t);

  CaptureOptions options_;
};

// Row norms of x [.., pos, d] (the first axis of size 1): ‖x[p]‖ for each p; NaN where a row
// is not finite.
std::vector<double> row_norms(const TensorView& x);
// NaN/Inf entries of a tensor.
int64_t count_nonfinite(const TensorView& x);

}  // namespace gb::viewer
