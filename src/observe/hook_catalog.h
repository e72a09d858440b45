// Every hook point a model has, with its full name and its shape for a given run.
#pragma once

#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/config.h"
#include "model/hook_sites.h"
#include "model/hooks.h"

namespace gb {

class Model;

struct CatalogEntry {
  std::string name;  // "blocks.3.attn.hook_z"
  HookPoint point;
};

struct HookCatalog {
  std::vector<CatalogEntry> entries;  // in forward-pass order
  int n_layers = 0;                   // blocks of the deepest stack (hook masks are sized by it)
  ModelConfig config;
};

HookCatalog hook_catalog(const Model& model);

// The sizes a run gives to the symbolic axes.
struct RunDims {
  int batch = 1;
  int64_t n_pos = 1;    // positions in this forward call
  int64_t k_len = 1;    // key positions (cache + new)
  int64_t src_pos = 1;  // encoder positions (encoder-decoder models)
};

int64_t axis_size(Axis a, const ModelConfig& c, const RunDims& r);
Shape hook_shape(HookSite site, const ModelConfig& c, const RunDims& r);
// "[batch, pos, n_heads, d_head]"
std::string hook_shape_names(HookSite site);

}  // namespace gb
