// What a forward pass needs from observation: which hook points are active (HookMask) and whom
// to show them to (Observer). Name filters, sinks and interventions live in src/observe/ and
// produce these two.
//
// A hook point nobody asked for costs one predictable branch (`hooks.on(...)`). An observer sees
// the live tensor; whatever it writes into it, the forward pass continues with.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "model/hook_sites.h"

namespace gb {

#ifdef GLASSBOX_NO_HOOKS
inline constexpr bool kHooksCompiled = false;
#else
inline constexpr bool kHooksCompiled = true;
#endif

struct HookPoint {
  Stack stack = Stack::Main;
  int layer = -1;  // block index; -1 for model-level sites (hook_embed, hook_logits, ...)
  HookSite site = HookSite::ResidPre;
  int64_t pos0 = 0;  // absolute position of the tensor's first row along its pos axis
};

class Observer {
 public:
  virtual ~Observer() = default;
  virtual void on_hook(const HookPoint& point, TensorView& tensor) = 0;
};

// One flag per (stack, layer or model level, site).
class HookMask {
 public:
  HookMask() = default;
  explicit HookMask(int n_layers);
  void set(Stack stack, int layer, HookSite site, bool on = true);
  bool on(Stack stack, int layer, HookSite site) const {
    return bits_[index(stack, layer, site)] != 0;
  }
  bool any() const;
  int n_layers() const { return n_layers_; }

 private:
  size_t index(Stack stack, int layer, HookSite site) const {
    return (size_t(stack) * size_t(n_layers_ + 1) + size_t(layer + 1)) * kHookSiteCount +
           size_t(site);
  }
  int n_layers_ = 0;
  std::vector<uint8_t> bits_;  // [3 stacks][model level + n_layers][sites]
};

// Handed to a forward pass. Default-constructed: observes nothing.
class Hooks {
 public:
  Hooks() = default;
  Hooks(const HookMask& mask, Observer& observer) : mask_(&mask), observer_(&observer) {}

  bool on(HookSite site, int layer, Stack stack = Stack::Main) const {
    if constexpr (!kHooksCompiled) return false;
    return mask_ != nullptr && mask_->on(stack, layer, site);
  }
  // Shows `data` (of `shape`) to the observer if the point is active.
  void operator()(HookSite site, int layer, float* data, const Shape& shape, int64_t pos0,
                  Stack stack = Stack::Main) const {
    if (on(site, layer, stack)) {
      TensorView view{data, shape};
      observer_->on_hook({stack, layer, site, pos0}, view);
    }
  }

 private:
  const HookMask* mask_ = nullptr;
  Observer* observer_ = nullptr;
};

}  // namespace gb
