// HookPlan: the user's hook filter compiled, before the forward pass, against a model's hook
// catalog into a HookMask (what the forward pass consults) and per-point selections.
//
// Filter syntax (several patterns separated by commas outside brackets):
//   blocks.3.attn.hook_z            an exact name
//   blocks.*.attn.hook_pattern      a glob (* matches anything, ? one character)
//   blocks.2-5.mlp.hook_post        a layer range (inclusive)
//   re:blocks\.[0-3]\.hook_resid_.* a regular expression (ECMAScript, whole name)
//   all                             every hook point
// followed by optional slices: [head=5], [head=0:4], [pos=-1], [head=1,3; pos=0:2] or
// [head=1][pos=-1]. Indices may be negative (from the end); a:b is half-open.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/hooks.h"
#include "observe/hook_catalog.h"

namespace gb {

// A set of indices along one axis, resolved against the axis length when the tensor arrives.
struct IndexSpec {
  struct Item {
    std::optional<int64_t> begin, end;  // a range begin:end (half-open) ...
    bool single = false;                // ... or the single index `begin`
  };
  std::vector<Item> items;
  std::string text;  // as written, for messages and manifests

  static IndexSpec parse(const std::string& text);  // throws UsageError
  // Sorted unique indices in [0, n); throws UsageError naming `what` when out of range.
  std::vector<int64_t> resolve(int64_t n, const std::string& what) const;
};

struct HookSelection {
  std::string name;
  HookPoint point;
  std::optional<IndexSpec> heads;      // along the n_heads / n_kv_heads axis
  std::optional<IndexSpec> positions;  // along the pos / q_pos axis
};

class HookPlan {
 public:
  HookPlan() = default;
  // Throws UsageError for a pattern that matches nothing (naming the closest valid names), a
  // malformed pattern, or a slice on a hook without that axis.
  static HookPlan compile(const std::vector<std::string>& patterns, const HookCatalog& catalog);
  // Splits "a,b[head=1,2],c" at commas outside brackets.
  static std::vector<std::string> split(const std::string& filter);

  const HookMask& mask() const { return mask_; }
  const std::vector<HookSelection>& selections() const { return selections_; }
  const HookSelection* find(const HookPoint& p) const;
  bool empty() const { return selections_.empty(); }

 private:
  HookMask mask_;
  std::vector<HookSelection> selections_;
  std::vector<int> index_;  // mask position -> selection index, -1 if none
  int n_layers_ = 0;
  size_t slot(Stack s, int layer, HookSite site) const;
};

// The part of tensor t [.., heads, .., pos, ..] that a selection keeps (a copy).
Tensor select_slices(const HookSelection& sel, const TensorView& t);

}  // namespace gb
