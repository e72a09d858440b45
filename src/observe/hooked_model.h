// HookedModel: a Model with TransformerLens's conveniences — run with a cache of named hook
// tensors, run with callbacks that may change them.
//
//   gb::HookedModel m(gb::load_model("model.gguf"));
//   auto [logits, cache] = m.run_with_cache(tokens, "blocks.*.attn.hook_pattern");
//   const gb::Tensor& p0 = cache["blocks.0.attn.hook_pattern"];  // [1, n_heads, pos, pos]
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "model/model.h"
#include "observe/activation_cache.h"
#include "observe/hook_catalog.h"
#include "observe/hook_plan.h"

namespace gb {

// A callback at a hook: sees the live tensor and may change it.
using HookFn = std::function<void(const std::string& name, TensorView& tensor)>;

struct CachedRun {
  Tensor logits;          // [1, pos, d_vocab]
  ActivationCache cache;  // the filter's hooks
};

class HookedModel {
 public:
  explicit HookedModel(std::unique_ptr<Model> model);

  Model& model() { return *model_; }
  const Model& model() const { return *model_; }
  const HookCatalog& catalog() const { return catalog_; }
  // Compiles a filter ("blocks.*.attn.hook_pattern,hook_logits") against this model.
  std::shared_ptr<const HookPlan> plan(const std::string& filter) const;

  // Logits [1, pos, d_vocab] of one sequence, every position.
  Tensor run(std::span<const int32_t> tokens);
  CachedRun run_with_cache(std::span<const int32_t> tokens, const std::string& filter);
  // Calls fn at every hook the filter selects, in forward order; fn may modify the tensor.
  Tensor run_with_hooks(std::span<const int32_t> tokens, const std::string& filter, HookFn fn);
  // The general form: any observer, any plan; returns all-position logits. chunk > 0 feeds the
  // tokens through the KV cache that many at a time (hooks see each chunk in turn).
  Tensor run_observed(std::span<const int32_t> tokens, const HookPlan& plan, Observer& observer,
                      int64_t chunk = 0);
  Tensor run_observed(std::span<const int32_t> tokens, const HookMask& mask, Observer& observer,
                      int64_t chunk = 0);
  // Several sequences in one forward pass, right-padded to the longest (TokenBatch): hooks see
  // [batch, longest, ...] tensors (pos0 = 0) in which rows past a sequence's length are padding
  // the observer must skip. Logits are computed only where hook_logits asks for them.
  void run_batch_observed(std::span<const std::span<const int32_t>> sequences, const HookMask& mask,
                          Observer& observer);

 private:
  std::unique_ptr<Model> model_;
  HookCatalog catalog_;
};

}  // namespace gb
