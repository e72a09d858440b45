#include "observe/activation_cache.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.h"

namespace gb {
namespace {

bool is_attention_matrix(HookSite s) {
  return s == HookSite::AttnScores || s == HookSite::Pattern || s == HookSite::CrossScores ||
         s == HookSite::CrossPattern;
}

// Position axis of a hook: 2 for [b, n_heads, q_pos, k_pos], else 1.
int pos_axis(HookSite s) {
  return is_attention_matrix(s) ? 2 : 1;
}

// Pads the last axis of t to `width` with `fill`.
Tensor widen_last(const Tensor& t, int64_t width, float fill) {
  const Shape& s = t.shape();
  const int64_t old = s[s.rank - 1];
  if (old == width) return t;
  Shape ns = s;
  ns[ns.rank - 1] = width;
  Tensor out(ns, fill);
  const int64_t rows = t.numel() / old;
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(out.data() + r * width, t.data() + r * old, size_t(old) * sizeof(float));
  return out;
}

// Concatenates a and b along `axis` (all other axes equal).
Tensor concat(const Tensor& a, const Tensor& b, int axis) {
  const Shape& sa = a.shape();
  const Shape& sb = b.shape();
  int64_t outer = 1, inner_a = 1, inner_b = 1;
  for (int i = 0; i < axis; ++i) outer *= sa[i];
  for (int i = axis; i < sa.rank; ++i) inner_a *= sa[i];
  for (int i = axis; i < sb.rank; ++i) inner_b *= sb[i];
  Shape s = sa;
  s[axis] = sa[axis] + sb[axis];
  Tensor out(s);
  for (int64_t o = 0; o < outer; ++o) {
    std::memcpy(out.data() + o * (inner_a + inner_b), a.data() + o * inner_a, size_t(inner_a) * 4);
    std::memcpy(out.data() + o * (inner_a + inner_b) + inner_a, b.data() + o * inner_b,
                size_t(inner_b) * 4);
  }
  return out;
}

}  // namespace

void ActivationCache::on_hook(const HookPoint& point, TensorView& tensor) {
  const HookSelection* sel = plan_->find(point);
  if (!sel) return;
  Tensor copy = sel->sliced() ? select_slices(*sel, tensor) : copy_of(tensor);
  auto it = index_.find(sel->name);
  if (it == index_.end()) {
    index_[sel->name] = entries_.size();
    entries_.emplace_back(sel->name, std::move(copy));
    return;
  }
  Tensor& have = entries_[it->second].second;
  if (is_attention_matrix(point.site)) {
    const float fill = point.site == HookSite::Pattern || point.site == HookSite::CrossPattern
                           ? 0.0f
                           : -std::numeric_limits<float>::infinity();
    const int64_t width = std::max(have.shape()[3], copy.shape()[3]);
    have = widen_last(have, width, fill);
    copy = widen_last(copy, width, fill);
  }
  have = concat(have, copy, pos_axis(point.site));
}

const Tensor& ActivationCache::operator[](const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) usage_fail("hook ", name, " was not cached");
  return entries_[it->second].second;
}

Tensor ActivationCache::copy_of(const TensorView& tensor) {
  std::vector<float> values;
  if (!spare_.empty()) {
    values = std::move(spare_.back());
    spare_.pop_back();
  }
  values.assign(tensor.data, tensor.data + tensor.numel());
  return Tensor(tensor.shape, std::move(values));
}

void ActivationCache::clear() {
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    spare_.push_back(std::move(it->second.values()));
  entries_.clear();
  index_.clear();
}

}  // namespace gb
