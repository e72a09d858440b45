// HookPlan: the user's hook filter compiled, before the forward pass, against a model's hook
// catalog into a HookMask (what the forward pass consults) and per-point selections.
//
// Filter syntax (several patterns separated by commas outside brackets):
//   blocks.3.attn.hook_z            an exact name
//   blocks.*.attn.hook_pattern      a glob (* matches anything, ? one character)
//   blocks.2-5.mlp.hook_post        a layer range (inclusive)
//   re:blocks\.[0-3]\.hook_resid_.* a regular expression (ECMAScript, whole name)
//   all                             every hook point
// followed by optional slices: [head=5], [head=0:4], [pos=-1], [neuron=17] (the last axis:
// MLP neurons, residual channels), [head=1,3; pos=0:2] or [head=1][pos=-1]. Indices may be
// negative (from the end); a:b is half-open.
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

// Which axis a slice applies to.
enum class SliceAxis : uint8_t { Head, Pos, Neuron };

struct AxisSlice {
  SliceAxis axis;
  IndexSpec spec;
};

struct HookSelection {
  std::string name;
  HookPoint point;
  std::vector<AxisSlice> slices;  // none: the whole tensor

  bool sliced() const { return !slices.empty(); }
  // Per axis of a tensor of `shape`, the indices kept. Throws UsageError when out of range.
  std::vector<std::vector<int64_t>> kept_indices(const Shape& shape) const;
  // "[head=5; pos=-1]" or "".
  std::string slice_text() const;
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

// The part of tensor t that a selection keeps (a copy).
Tensor select_slices(const HookSelection& sel, const TensorView& t);

// Calls fn(flat_offset) for every element of a tensor of `shape` that the selection keeps.
template <typename Fn>
void for_each_selected(const HookSelection& sel, const Shape& shape, Fn&& fn);

// The axis of `site` a slice applies to, or -1 if the site has no such axis.
int slice_axis_index(HookSite site, SliceAxis axis);

template <typename Fn>
void for_each_selected(const HookSelection& sel, const Shape& shape, Fn&& fn) {
  const auto keep = sel.kept_indices(shape);
  const int rank = shape.rank;
  int64_t stride[Shape::kMaxDims] = {1, 1, 1, 1};
  for (int a = rank - 2; a >= 0; --a) stride[a] = stride[a + 1] * shape[a + 1];
  int64_t idx[Shape::kMaxDims] = {0, 0, 0, 0};
  for (;;) {
    int64_t flat = 0;
    for (int a = 0; a < rank; ++a) flat += keep[size_t(a)][size_t(idx[a])] * stride[a];
    fn(flat);
    int a = rank - 1;
    for (; a >= 0; --a) {
      if (++idx[a] < int64_t(keep[size_t(a)].size())) break;
      idx[a] = 0;
    }
    if (a < 0) return;
  }
}

}  // namespace gb
