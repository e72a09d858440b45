#include "observe/hooked_model.h"

#include <algorithm>

#include "core/error.h"

namespace gb {
namespace {

class CallbackObserver : public Observer {
 public:
  CallbackObserver(const HookPlan& plan, HookFn fn) : plan_(plan), fn_(std::move(fn)) {}
  void on_hook(const HookPoint& point, TensorView& tensor) override {
    if (const HookSelection* sel = plan_.find(point)) fn_(sel->name, tensor);
  }

 private:
  const HookPlan& plan_;
  HookFn fn_;
};

}  // namespace

HookedModel::HookedModel(std::unique_ptr<Model> model)
    : model_(std::move(model)), catalog_(hook_catalog(*model_)) {}

std::shared_ptr<const HookPlan> HookedModel::plan(const std::string& filter) const {
  return std::make_shared<const HookPlan>(HookPlan::compile(HookPlan::split(filter), catalog_));
}

Tensor HookedModel::run_observed(std::span<const int32_t> tokens, const HookPlan& plan,
                                 Observer& observer, int64_t chunk) {
  return run_observed(tokens, plan.mask(), observer, chunk);
}

Tensor HookedModel::run_observed(std::span<const int32_t> tokens, const HookMask& mask,
                                 Observer& observer, int64_t chunk) {
  const int64_t n = int64_t(tokens.size());
  if (chunk <= 0 || chunk > n) chunk = n;
  KvCache kv = model_->new_cache(1, n);
  const Hooks hooks = mask.any() ? Hooks(mask, observer) : Hooks();
  Tensor all(Shape{1, n, model_->config().d_vocab});
  Tensor logits;
  for (int64_t p0 = 0; p0 < n; p0 += chunk) {
    const int64_t len = std::min(chunk, n - p0);
    model_->forward({tokens.subspan(size_t(p0), size_t(len)), 1, len}, kv, hooks, logits,
                    {.all_logits = true});
    std::copy(logits.data(), logits.data() + logits.numel(), all.data() + p0 * all.shape()[2]);
  }
  return all;
}

void HookedModel::run_batch_observed(std::span<const std::span<const int32_t>> sequences,
                                     const HookMask& mask, Observer& observer) {
  if (sequences.empty()) return;
  int64_t longest = 0;
  for (const auto& seq : sequences) longest = std::max(longest, int64_t(seq.size()));
  const int batch = int(sequences.size());
  std::vector<int32_t> ids(size_t(batch * longest));
  std::vector<int64_t> lengths;
  for (int b = 0; b < batch; ++b) {
    const auto& seq = sequences[size_t(b)];
    if (seq.empty()) usage_fail("sequence ", b, " of a batch is empty");
    // Padding repeats the last token: any valid id would do.
    std::fill(std::copy(seq.begin(), seq.end(), ids.begin() + b * longest),
              ids.begin() + (b + 1) * longest, seq.back());
    lengths.push_back(int64_t(seq.size()));
  }
  KvCache kv = model_->new_cache(batch, longest);
  const Hooks hooks = mask.any() ? Hooks(mask, observer) : Hooks();
  Tensor logits;
  model_->forward({.ids = ids, .batch = batch, .n_pos = longest, .lengths = lengths}, kv, hooks,
                  logits);
}

Tensor HookedModel::run(std::span<const int32_t> tokens) {
  KvCache kv = model_->new_cache(1, int64_t(tokens.size()));
  Tensor logits;
  model_->forward({tokens, 1, int64_t(tokens.size())}, kv, Hooks(), logits, {.all_logits = true});
  return logits;
}

CachedRun HookedModel::run_with_cache(std::span<const int32_t> tokens, const std::string& filter) {
  auto p = plan(filter);
  CachedRun out{Tensor(), ActivationCache(p)};
  out.logits = run_observed(tokens, *p, out.cache);
  return out;
}

Tensor HookedModel::run_with_hooks(std::span<const int32_t> tokens, const std::string& filter,
                                   HookFn fn) {
  auto p = plan(filter);
  CallbackObserver obs(*p, std::move(fn));
  return run_observed(tokens, *p, obs);
}

}  // namespace gb
