#include "model/hooks.h"

#include <algorithm>

#include "core/error.h"

namespace gb {

HookMask::HookMask(int n_layers)
    : n_layers_(n_layers), bits_(size_t(3) * size_t(n_layers + 1) * kHookSiteCount, 0) {}

void HookMask::set(Stack stack, int layer, HookSite site, bool on) {
  if (layer < -1 || layer >= n_layers_) fail("hook layer ", layer, " out of range");
  bits_[index(stack, layer, site)] = on ? 1 : 0;
}

bool HookMask::any() const {
  return std::any_of(bits_.begin(), bits_.end(), [](uint8_t b) { return b != 0; });
}

}  // namespace gb
