// ActivationCache: an observer that keeps a copy of every selected hook's tensor (sliced as the
// plan says). Called again for the same hook (incremental decoding), it appends along the
// position axis; attention patterns/scores are widened to the new key length (pattern padded
// with 0, scores with −inf, as a full run would show the masked future).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "observe/hook_plan.h"

namespace gb {

class ActivationCache : public Observer {
 public:
  explicit ActivationCache(std::shared_ptr<const HookPlan> plan) : plan_(std::move(plan)) {}

  void on_hook(const HookPoint& point, TensorView& tensor) override;

  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws UsageError naming the hook if it was not cached.
  const Tensor& operator[](const std::string& name) const;
  // (name, tensor) in forward-pass order.
  const std::vector<std::pair<std::string, Tensor>>& entries() const { return entries_; }
  // Forgets every entry but keeps their storage for the next pass's copies: the same hooks in
  // the same order take back buffers of the same sizes, so repeated passes write into memory
  // that is already mapped (a fresh 12 MB pattern per layer was half the cost of caching
  // patterns, in page faults).
  void clear();

 private:
  // tensor as owned storage: a spare buffer refilled when there is one.
  Tensor copy_of(const TensorView& tensor);

  std::shared_ptr<const HookPlan> plan_;
  std::vector<std::pair<std::string, Tensor>> entries_;
  std::map<std::string, size_t> index_;
  std::vector<std::vector<float>> spare_;  // storage of cleared entries, the first entry's last
};

}  // namespace gb
