#include "analysis/run_diff.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "analysis/readout.h"
#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gb::analysis {
namespace {

HookDiff compare(const std::string& name, const HookPoint& point, std::span<const float> a,
                 std::span<const float> b) {
  HookDiff d{name, point.layer, point.site, int64_t(a.size())};
  double aa = 0, bb = 0, ab = 0, dd = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const float x = a[i], y = b[i];
    if (!std::isfinite(x) || !std::isfinite(y)) {
      if (x == y) continue;  // the same infinity in both: masked attention scores
      d.nonfinite_a += !std::isfinite(x);
      d.nonfinite_b += !std::isfinite(y);
      continue;
    }
    aa += double(x) * x;
    bb += double(y) * y;
    ab += double(x) * y;
    const double diff = double(y) - double(x);
    dd += diff * diff;
    d.max_abs = std::max(d.max_abs, std::fabs(diff));
  }
  d.rel_error = aa > 0 ? std::sqrt(dd / aa) : std::sqrt(dd);
  d.cosine = (aa > 0 && bb > 0) ? ab / std::sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
  return d;
}

// Compares each hook of run B with run A's cached tensor as B goes by.
class DiffObserver : public Observer {
 public:
  DiffObserver(const HookPlan& plan, const ActivationCache& a, RunDiff& out)
      : plan_(plan), a_(a), out_(out) {}
  void on_hook(const HookPoint& point, TensorView& t) override {
    const HookSelection* sel = plan_.find(point);
    if (!sel || !a_.contains(sel->name)) return;
    const Tensor& ref = a_[sel->name];
    if (!(ref.shape() == t.shape))
      fail("hook ", sel->name, ": shapes differ between the runs: ", ref.shape().str(), " and ",
           t.shape.str());
    out_.hooks.push_back(compare(sel->name, point, {ref.data(), size_t(ref.numel())}, t.span()));
  }

 private:
  const HookPlan& plan_;
  const ActivationCache& a_;
  RunDiff& out_;
};

template <typename T>
void same(const char* what, const T& a, const T& b, const Model& ma, const Model& mb) {
  if (a != b)
    usage_fail("cannot compare the models: they differ in ", what, " (", ma.path(), ": ", a, ", ",
               mb.path(), ": ", b, ")");
}

std::shared_ptr<const HookPlan> diff_plan(const HookedModel& m, const std::string& hooks) {
  if (!hooks.empty()) return m.plan(hooks);
  std::vector<std::string> names;
  for (const CatalogEntry& e : m.catalog().entries)
    if (e.point.site != HookSite::Result) names.push_back(e.name);
  return std::make_shared<const HookPlan>(HookPlan::compile(names, m.catalog()));
}

}  // namespace

void check_comparable(const Model& a, const Model& b) {
  const ModelConfig &x = a.config(), &y = b.config();
  same("architecture family", family_name(x.family), family_name(y.family), a, b);
  same("number of layers", x.n_layers, y.n_layers, a, b);
  same("d_model", x.d_model, y.d_model, a, b);
  same("number of heads", x.n_heads, y.n_heads, a, b);
  same("number of kv heads", x.n_kv_heads, y.n_kv_heads, a, b);
  same("d_head", x.d_head, y.d_head, a, b);
  same("d_mlp", x.d_mlp, y.d_mlp, a, b);
  same("vocabulary size", x.d_vocab, y.d_vocab, a, b);
  const tok::Tokenizer *ta = a.tokenizer(), *tb = b.tokenizer();
  if (!ta || !tb) return;  // ids are all there is to compare
  same("tokenizer size", ta->vocab_size(), tb->vocab_size(), a, b);
  for (int32_t id = 0; id < ta->vocab_size(); ++id)
    if (ta->piece(id) != tb->piece(id))
      usage_fail("cannot compare the models: their tokenizers differ at token ", id, " (", a.path(),
                 ": '", ta->piece(id), "', ", b.path(), ": '", tb->piece(id), "')");
}

RunDiff diff_runs(HookedModel& a, std::span<const int32_t> tokens_a, HookedModel& b,
                  std::span<const int32_t> tokens_b, const DiffOptions& o) {
  if (&a != &b) check_comparable(a.model(), b.model());
  if (tokens_a.size() != tokens_b.size())
    usage_fail(
        "the two prompts must have the same number of tokens to be compared position by "
        "position (",
        tokens_a.size(), " and ", tokens_b.size(), ")");
  if (!(o.threshold > 0)) usage_fail("the divergence threshold must be positive");
  RunDiff d;
  d.tokens_a.assign(tokens_a.begin(), tokens_a.end());
  d.tokens_b.assign(tokens_b.begin(), tokens_b.end());
  d.threshold = o.threshold;

  auto plan_a = diff_plan(a, o.hooks);
  ActivationCache cache(plan_a);
  const Tensor logits_a = a.run_observed(tokens_a, *plan_a, cache);
  auto plan_b = &a == &b ? plan_a : diff_plan(b, o.hooks);
  DiffObserver observer(*plan_b, cache, d);
  const Tensor logits_b = b.run_observed(tokens_b, *plan_b, observer);

  for (size_t i = 0; i < d.hooks.size(); ++i) {
    const HookDiff& h = d.hooks[i];
    if (!d.first_hook && h.rel_error > o.threshold) d.first_hook = i;
    if (!d.first_layer && h.site == HookSite::ResidPost && h.rel_error > o.threshold)
      d.first_layer = h.layer;
  }
  const int64_t n = logits_a.shape()[1], v = logits_a.shape()[2];
  int64_t agree = 0;
  for (int64_t p = 0; p < n; ++p) {
    const std::span<const float> la{logits_a.data() + p * v, size_t(v)};
    const std::span<const float> lb{logits_b.data() + p * v, size_t(v)};
    const std::vector<double> pa = log_softmax(la), pb = log_softmax(lb);
    double kl = 0;
    for (int64_t i = 0; i < v; ++i)
      if (pa[size_t(i)] > -INFINITY)
        kl += std::exp(pa[size_t(i)]) * (pa[size_t(i)] - pb[size_t(i)]);
    d.kl.push_back(kl);
    d.top1_a.push_back(summarize_logits(la, 1, std::nullopt).top[0].id);
    d.top1_b.push_back(summarize_logits(lb, 1, std::nullopt).top[0].id);
    agree += d.top1_a.back() == d.top1_b.back();
    d.kl_mean += kl / double(n);
    d.kl_max = std::max(d.kl_max, kl);
  }
  d.top1_agreement = double(agree) / double(n);
  return d;
}

nlohmann::json to_json(const RunDiff& d, const TokenLabeler& label) {
  using nlohmann::json;
  json hooks = json::array();
  for (const HookDiff& h : d.hooks) {
    json j = {{"name", h.name},           {"layer", h.layer},   {"numel", h.numel},
              {"rel_error", h.rel_error}, {"cosine", h.cosine}, {"max_abs", h.max_abs}};
    if (h.nonfinite_a || h.nonfinite_b) {
      j["nonfinite_a"] = h.nonfinite_a;
      j["nonfinite_b"] = h.nonfinite_b;
    }
    hooks.push_back(j);
  }
  json top1 = json::array();
  for (size_t p = 0; p < d.top1_a.size(); ++p)
    top1.push_back({{"a", d.top1_a[p]},
                    {"b", d.top1_b[p]},
                    {"a_token", label(d.top1_a[p])},
                    {"b_token", label(d.top1_b[p])}});
  json j = {{"analysis", "run_diff"},
            {"tokens_a", d.tokens_a},
            {"tokens_b", d.tokens_b},
            {"threshold", d.threshold},
            {"hooks", hooks},
            {"first_hook", d.first_hook ? json(d.hooks[*d.first_hook].name) : json(nullptr)},
            {"first_layer", d.first_layer ? json(*d.first_layer) : json(nullptr)},
            {"kl", d.kl},
            {"kl_mean", d.kl_mean},
            {"kl_max", d.kl_max},
            {"top1", top1},
            {"top1_agreement", d.top1_agreement}};
  return j;
}

}  // namespace gb::analysis
