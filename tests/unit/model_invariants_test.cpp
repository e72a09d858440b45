// Invariants of the forward pass that need no reference implementation: batching, the KV cache
// and observing must not change results.
#include <gtest/gtest.h>

#include <cmath>

#include "model/model.h"
#include "observe/hooked_model.h"
#include "test_models.h"

namespace gb {
namespace {

class ModelInvariants : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Model> load() {
    return testing::load_tiny_model(GetParam(), "gb_invariants_", 2);
  }
};

TEST_P(ModelInvariants, BatchOfTwoEqualsEachAlone) {
  auto model = load();
  const std::vector<int32_t> a = {3, 14, 15, 9, 2, 6}, b = {5, 3, 5, 8, 9, 7};
  std::vector<int32_t> both = a;
  both.insert(both.end(), b.begin(), b.end());
  const int64_t v = model->config().d_vocab, n = int64_t(a.size());
  KvCache c2 = model->new_cache(2, n);
  Tensor l2;
  model->forward({both, 2, n}, c2, Hooks(), l2, {.all_logits = true});
  ASSERT_EQ(l2.shape(), (Shape{2, n, v}));
  for (int row = 0; row < 2; ++row) {
    KvCache c1 = model->new_cache(1, n);
    Tensor l1;
    model->forward({row == 0 ? a : b, 1, n}, c1, Hooks(), l1, {.all_logits = true});
    EXPECT_LT(testing::max_abs_diff(l1.data(), l2.data() + row * n * v, n * v), 1e-5f)
        << "row " << row;
  }
}

TEST_P(ModelInvariants, LastLogitsOnlyMatchAllLogits) {
  auto model = load();
  const std::vector<int32_t> ids = {1, 2, 3, 4, 5};
  const int64_t v = model->config().d_vocab;
  KvCache c1 = model->new_cache(1, 5), c2 = model->new_cache(1, 5);
  Tensor all, last;
  model->forward({ids, 1, 5}, c1, Hooks(), all, {.all_logits = true});
  model->forward({ids, 1, 5}, c2, Hooks(), last);
  ASSERT_EQ(last.shape(), (Shape{1, 1, v}));
  EXPECT_LT(testing::max_abs_diff(all.data() + 4 * v, last.data(), v),
            1e-4f);  // GEMV vs GEMM rounding
}

TEST_P(ModelInvariants, ObservingEveryHookChangesNothing) {
  auto model = load();
  HookedModel hm(std::move(model));
  const std::vector<int32_t> ids = {7, 1, 8, 2, 8, 1, 8};
  const Tensor plain = hm.run(ids);
  auto [logits, cache] = hm.run_with_cache(ids, "all");
  // hook_result reassociates the output projection per head: float rounding only.
  EXPECT_LT(testing::max_abs_diff(plain.data(), logits.data(), plain.numel()), 1e-4f);
  EXPECT_EQ(cache.entries().size(), hm.catalog().entries.size());
  // Documented shapes.
  const ModelConfig& c = hm.model().config();
  EXPECT_EQ(cache["blocks.0.attn.hook_pattern"].shape(), (Shape{1, c.n_heads, 7, 7}));
  EXPECT_EQ(cache["blocks.1.attn.hook_k"].shape(), (Shape{1, 7, c.n_kv_heads, c.d_head}));
  EXPECT_EQ(cache["blocks.1.attn.hook_result"].shape(), (Shape{1, 7, c.n_heads, c.d_model}));
  EXPECT_EQ(cache["ln_final.hook_scale"].shape(), (Shape{1, 7, 1}));
  // Attention rows sum to one; the causal upper triangle is zero.
  const Tensor& p = cache["blocks.1.attn.hook_pattern"];
  for (int h = 0; h < c.n_heads; ++h)
    for (int q = 0; q < 7; ++q) {
      double sum = 0;
      for (int k = 0; k < 7; ++k) {
        sum += p.at({0, h, q, k});
        if (k > q) {
          EXPECT_EQ(p.at({0, h, q, k}), 0.0f);
        }
      }
      EXPECT_NEAR(sum, 1.0, 1e-5);
    }
  // Per-head results sum to attn_out minus the output bias (zero bias in llama).
  if (c.family == Family::Llama) {
    const Tensor& r = cache["blocks.0.attn.hook_result"];
    const Tensor& out = cache["blocks.0.hook_attn_out"];
    for (int q = 0; q < 7; ++q)
      for (int m = 0; m < c.d_model; ++m) {
        double s = 0;
        for (int h = 0; h < c.n_heads; ++h) s += r.at({0, q, h, m});
        EXPECT_NEAR(s, out.at({0, q, m}), 1e-4);
      }
  }
}

TEST_P(ModelInvariants, SlicedSelectionKeepsThePartAsked) {
  HookedModel hm(load());
  const std::vector<int32_t> ids = {4, 4, 2, 9, 1};
  auto full = hm.run_with_cache(ids, "blocks.1.attn.hook_z");
  auto part = hm.run_with_cache(ids, "blocks.1.attn.hook_z[head=1,3; pos=-2:]");
  const Tensor& f = full.cache["blocks.1.attn.hook_z"];
  const Tensor& s = part.cache["blocks.1.attn.hook_z"];
  ASSERT_EQ(s.shape(), (Shape{1, 2, 2, hm.model().config().d_head}));
  for (int p = 0; p < 2; ++p)
    for (int h = 0; h < 2; ++h)
      for (int d = 0; d < hm.model().config().d_head; ++d)
        EXPECT_EQ(s.at({0, p, h, d}), f.at({0, 3 + p, h == 0 ? 1 : 3, d}));
}

INSTANTIATE_TEST_SUITE_P(Families, ModelInvariants, ::testing::Values("llama", "gpt2"));

}  // namespace
}  // namespace gb
