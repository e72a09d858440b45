#include "observe/hook_catalog.h"

#include <algorithm>

#include "model/model.h"

namespace gb {

HookCatalog hook_catalog(const Model& model) {
  HookCatalog cat;
  cat.config = model.config();
  const auto table = hook_site_table();
  const auto before_blocks = [](HookSite s) {
    return s == HookSite::Embed || s == HookSite::PosEmbed;
  };
  // Per stack, in forward-pass order: model-level sites before the blocks (embeddings), every
  // block's sites, model-level sites after the blocks (final norm, logits).
  for (const Model::StackDepth& sd : model.stacks()) {
    cat.n_layers = std::max(cat.n_layers, sd.n_layers);
    auto add = [&](int layer, HookSite site) {
      if (model.has_site_in(sd.stack, site))
        cat.entries.push_back({hook_name(sd.stack, layer, site), {sd.stack, layer, site, 0}});
    };
    for (const auto& info : table)
      if (!info.block_level && before_blocks(info.site)) add(-1, info.site);
    for (int layer = 0; layer < sd.n_layers; ++layer)
      for (const auto& info : table)
        if (info.block_level) add(layer, info.site);
    for (const auto& info : table)
      if (!info.block_level && !before_blocks(info.site)) add(-1, info.site);
  }
  return cat;
}

int64_t axis_size(Axis a, const ModelConfig& c, const RunDims& r) {
  switch (a) {
    case Axis::Batch:
      return r.batch;
    case Axis::Pos:
      return r.n_pos;
    case Axis::QPos:
      return r.n_pos;
    case Axis::KPos:
      return r.k_len;
    case Axis::SrcPos:
      return r.src_pos;
    case Axis::DModel:
      return c.d_model;
    case Axis::NHeads:
      return c.n_heads;
    case Axis::NKvHeads:
      return c.n_kv_heads;
    case Axis::DHead:
      return c.d_head;
    case Axis::DMlp:
      return c.d_mlp;
    case Axis::DVocab:
      return c.d_vocab;
    case Axis::One:
      return 1;
  }
  return 0;
}

Shape hook_shape(HookSite site, const ModelConfig& c, const RunDims& r) {
  const HookSiteInfo& info = hook_site_info(site);
  Shape s;
  s.rank = info.rank;
  for (int i = 0; i < info.rank; ++i) s.dims[i] = axis_size(info.axes[i], c, r);
  return s;
}

std::string hook_shape_names(HookSite site) {
  const HookSiteInfo& info = hook_site_info(site);
  std::string s = "[";
  for (int i = 0; i < info.rank; ++i) s += (i ? ", " : "") + std::string(axis_name(info.axes[i]));
  return s + "]";
}

}  // namespace gb
