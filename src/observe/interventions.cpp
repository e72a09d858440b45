#include "observe/interventions.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace gb {
namespace {

// The axis of a hook that mean ablation averages over besides batch (positions), or -1.
int pos_axis(HookSite site) {
  return slice_axis_index(site, SliceAxis::Pos);
}

// Shape of `s` without axis 0 (batch) and axis `pos`.
Shape reduced_shape(const Shape& s, int pos) {
  Shape r;
  for (int a = 1; a < s.rank; ++a)
    if (a != pos) r.dims[r.rank++] = s[a];
  return r;
}

// For an element at flat offset `flat` of a tensor of shape `s`, its offset in reduced_shape.
int64_t reduced_offset(const Shape& s, int pos, int64_t flat) {
  int64_t idx[Shape::kMaxDims];
  for (int a = s.rank - 1; a >= 0; --a) {
    idx[a] = flat % s[a];
    flat /= s[a];
  }
  int64_t off = 0;
  for (int a = 1; a < s.rank; ++a)
    if (a != pos) off = off * s[a] + idx[a];
  return off;
}

}  // namespace

void Interventions::add(Item item) {
  const HookPoint& p = item.target.point;
  mask_.set(p.stack, p.layer, p.site);
  items_.push_back(std::move(item));
}

void Interventions::zero(const HookSelection& target) {
  add({Kind::Zero, target, {}, 1, {}});
}

void Interventions::zero(const HookPlan& plan) {
  for (const HookSelection& s : plan.selections()) zero(s);
}

void Interventions::mean(const HookSelection& target, Tensor mean) {
  if (pos_axis(target.point.site) < 0)
    usage_fail(target.name, ": mean ablation needs a hook with a position axis");
  add({Kind::Mean, target, std::move(mean), 1, {}});
}

void Interventions::patch(const HookSelection& target, Tensor source) {
  add({Kind::Patch, target, std::move(source), 1, {}});
}

void Interventions::steer(const HookSelection& target, Tensor vector, float scale) {
  if (vector.shape().rank != 1)
    usage_fail(target.name, ": a steering vector must be 1-D, got ", vector.shape().str());
  add({Kind::Steer, target, std::move(vector), scale, {}});
}

void Interventions::callback(const HookSelection& target, Callback fn) {
  add({Kind::Callback, target, {}, 1, std::move(fn)});
}

void Interventions::on_hook(const HookPoint& point, TensorView& t) {
  for (const Item& it : items_) {
    const HookPoint& p = it.target.point;
    if (p.stack != point.stack || p.layer != point.layer || p.site != point.site) continue;
    switch (it.kind) {
      case Kind::Zero:
        for_each_selected(it.target, t.shape, [&](int64_t i) { t.data[i] = 0.0f; });
        break;
      case Kind::Mean: {
        const int pos = pos_axis(p.site);
        if (!(reduced_shape(t.shape, pos) == it.values.shape()))
          usage_fail(it.target.name, ": mean of shape ", it.values.shape().str(),
                     " does not fit activation ", t.shape.str());
        for_each_selected(it.target, t.shape, [&](int64_t i) {
          t.data[i] = it.values.data()[reduced_offset(t.shape, pos, i)];
        });
        break;
      }
      case Kind::Patch:
        if (!(it.values.shape() == t.shape))
          usage_fail(it.target.name, ": patch source of shape ", it.values.shape().str(),
                     " does not fit activation ", t.shape.str(), " (runs of different lengths?)");
        for_each_selected(it.target, t.shape, [&](int64_t i) { t.data[i] = it.values.data()[i]; });
        break;
      case Kind::Steer: {
        const int64_t width = t.shape[t.shape.rank - 1];
        if (it.values.numel() != width)
          usage_fail(it.target.name, ": steering vector of width ", it.values.numel(),
                     " does not fit the hook's last axis of ", width);
        for_each_selected(it.target, t.shape,
                          [&](int64_t i) { t.data[i] += it.scale * it.values.data()[i % width]; });
        break;
      }
      case Kind::Callback:
        it.fn(it.target.name, t);
        break;
    }
  }
}

void MeanAccumulator::add(HookSite site, const Tensor& t) {
  const int pos = pos_axis(site);
  if (pos < 0) usage_fail("mean ablation needs a hook with a position axis");
  const Shape r = reduced_shape(t.shape(), pos);
  if (count_ == 0) {
    shape_ = r;
    sum_.assign(size_t(r.numel()), 0.0);
  } else if (!(r == shape_)) {
    fail("mean accumulator: activation of shape ", t.shape().str(), " does not fit ", shape_.str());
  }
  for (int64_t i = 0; i < t.numel(); ++i)
    sum_[size_t(reduced_offset(t.shape(), pos, i))] += t.data()[i];
  count_ += t.shape()[0] * t.shape()[pos];
}

Tensor MeanAccumulator::mean() const {
  if (count_ == 0) fail("mean ablation: no reference activations");
  Tensor m(shape_);
  for (size_t i = 0; i < sum_.size(); ++i) m.data()[i] = float(sum_[i] / double(count_));
  return m;
}

void ObserverList::add(Observer& observer, const HookMask& mask) {
  observers_.push_back({&observer, &mask});
  for (int stack = 0; stack < 3; ++stack)
    for (int layer = -1; layer < mask_.n_layers(); ++layer)
      for (int site = 0; site < kHookSiteCount; ++site)
        if (mask.on(Stack(stack), layer, HookSite(site)))
          mask_.set(Stack(stack), layer, HookSite(site));
}

void ObserverList::on_hook(const HookPoint& point, TensorView& tensor) {
  for (auto& [obs, mask] : observers_)
    if (mask->on(point.stack, point.layer, point.site)) obs->on_hook(point, tensor);
}

}  // namespace gb
