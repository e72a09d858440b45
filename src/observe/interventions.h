// Interventions: observers that change the forward pass at chosen hooks.
//
//   zero ablation    the selected part of the hook's tensor is set to 0
//   mean ablation    ... set to its mean over positions (and batch) in reference runs
//   patching         ... replaced by the same part of another run's activation
//   steering         scale · vector is added along the last axis at the selected positions
//   callback         any C++ function of (hook name, tensor)
// Each works on a HookSelection (a hook point plus head/position/neuron slices), so
// `blocks.3.attn.hook_z[head=5]` zero-ablates one head and `blocks.2.mlp.hook_post[neuron=17]`
// one neuron.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "model/hooks.h"
#include "observe/hook_plan.h"

namespace gb {

class Interventions : public Observer {
 public:
  using Callback = std::function<void(const std::string& name, TensorView& tensor)>;

  explicit Interventions(int n_layers) : mask_(n_layers) {}

  void zero(const HookSelection& target);
  // mean: the hook's activation averaged over batch and positions (the shape of the tensor
  // without those axes), e.g. from mean_over_positions().
  void mean(const HookSelection& target, Tensor mean);
  // source: the whole activation of the hook in another run (same shape as this run's).
  void patch(const HookSelection& target, Tensor source);
  // vector: [size of the hook's last axis]; added scale·vector at the selected positions.
  void steer(const HookSelection& target, Tensor vector, float scale);
  void callback(const HookSelection& target, Callback fn);

  // Every selection of a compiled plan.
  void zero(const HookPlan& plan);

  const HookMask& mask() const { return mask_; }
  bool empty() const { return items_.empty(); }
  void on_hook(const HookPoint& point, TensorView& tensor) override;

 private:
  enum class Kind { Zero, Mean, Patch, Steer, Callback };
  struct Item {
    Kind kind;
    HookSelection target;
    Tensor values;
    float scale = 1;
    Callback fn;
  };
  void add(Item item);

  HookMask mask_;
  std::vector<Item> items_;
};

// Sums activations over runs and positions, for mean ablation: add() each run's hook tensor,
// mean() gives [the tensor's shape without batch and position axes].
class MeanAccumulator {
 public:
  void add(HookSite site, const Tensor& t);
  Tensor mean() const;
  int64_t count() const { return count_; }

 private:
  Shape shape_;
  std::vector<double> sum_;
  int64_t count_ = 0;
};

// Calls several observers in order at every point any of them asked for.
class ObserverList : public Observer {
 public:
  explicit ObserverList(int n_layers) : mask_(n_layers) {}
  void add(Observer& observer, const HookMask& mask);
  const HookMask& mask() const { return mask_; }
  void on_hook(const HookPoint& point, TensorView& tensor) override;

 private:
  HookMask mask_;
  std::vector<std::pair<Observer*, const HookMask*>> observers_;
};

}  // namespace gb
