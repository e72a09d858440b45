// Interventions change exactly what they should.
#include "observe/interventions.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "observe/hooked_model.h"
#include "test_models.h"

namespace gb {
namespace {

bool same(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.values() == b.values();
}

class InterventionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TinyModelSpec spec;
    spec.n_layers = 3;
    hm = std::make_unique<HookedModel>(
        load_model(testing::write_tiny_model(spec, "gb_interventions.gguf"), 2));
  }
  // Runs with interventions `iv` and caches every hook (after the interventions act).
  std::pair<Tensor, ActivationCache> run(const Interventions& iv_in) {
    Interventions iv = iv_in;
    auto plan = hm->plan("all");
    ActivationCache cache(plan);
    ObserverList list(hm->model().config().n_layers);
    list.add(iv, iv.mask());
    list.add(cache, plan->mask());
    Tensor logits = hm->run_observed(ids, list.mask(), list);
    return {std::move(logits), std::move(cache)};
  }
  std::unique_ptr<HookedModel> hm;
  std::vector<int32_t> ids = {5, 9, 2, 9, 33, 5, 9, 2};
};

TEST_F(InterventionsTest, ZeroAblatingAHeadChangesOnlyWhatComesAfter) {
  const auto [clean_logits, clean] = run(Interventions(3));
  Interventions iv(3);
  iv.zero(hm->plan("blocks.1.attn.hook_z[head=2]")->selections()[0]);
  const auto [logits, ablated] = run(iv);
  EXPECT_FALSE(same(logits, clean_logits));
  bool after = false;
  for (const auto& [name, t] : clean.entries()) {
    const Tensor& a = ablated[name];
    if (name == "blocks.1.attn.hook_z") {
      after = true;
      const int64_t dh = t.shape()[3];
      for (int64_t p = 0; p < t.shape()[1]; ++p)
        for (int64_t h = 0; h < t.shape()[2]; ++h)
          for (int64_t d = 0; d < dh; ++d) {
            if (h == 2)
              EXPECT_EQ(a.at({0, p, h, d}), 0.0f);
            else
              EXPECT_EQ(a.at({0, p, h, d}), t.at({0, p, h, d}));
          }
      continue;
    }
    if (!after) {
      EXPECT_TRUE(same(a, t)) << name << " is upstream of the ablation but changed";
    } else if (name.find("hook_attn_out") != std::string::npos ||
               name.find("resid_post") != std::string::npos || name == "hook_logits") {
      EXPECT_FALSE(same(a, t)) << name << " is downstream of the ablation but did not change";
    }
  }
  // Same-layer attention inputs (q, k, v, pattern) are upstream of z: unchanged.
  EXPECT_TRUE(same(ablated["blocks.1.attn.hook_pattern"], clean["blocks.1.attn.hook_pattern"]));
}

TEST_F(InterventionsTest, PatchingEveryHookFromTheCleanRunReproducesItExactly) {
  const auto [clean_logits, clean] = run(Interventions(3));
  const std::vector<int32_t> corrupt = {5, 9, 2, 9, 33, 7, 1, 2};
  const Tensor corrupt_logits = hm->run(corrupt);
  ASSERT_FALSE(same(corrupt_logits, clean_logits));
  Interventions iv(3);
  auto plan = hm->plan("all");
  for (const HookSelection& s : plan->selections()) iv.patch(s, clean[s.name]);
  auto obs_plan = hm->plan("hook_logits");
  Tensor patched = hm->run_observed(corrupt, iv.mask(), iv);
  EXPECT_TRUE(same(patched, clean_logits));
}

TEST_F(InterventionsTest, ZeroSteeringVectorChangesNothingAndANonZeroOneDoes) {
  const Tensor clean = hm->run(ids);
  const int d = hm->model().config().d_model;
  Interventions zero_vec(3), real_vec(3);
  const HookSelection sel = hm->plan("blocks.1.hook_resid_pre")->selections()[0];
  zero_vec.steer(sel, Tensor(Shape{d}, 0.0f), 5.0f);
  EXPECT_TRUE(same(hm->run_observed(ids, zero_vec.mask(), zero_vec), clean));
  real_vec.steer(sel, Tensor(Shape{d}, 0.1f), 5.0f);
  EXPECT_FALSE(same(hm->run_observed(ids, real_vec.mask(), real_vec), clean));
  Interventions wrong(3);
  wrong.steer(sel, Tensor(Shape{d + 1}, 1.0f), 1.0f);
  EXPECT_THROW(hm->run_observed(ids, wrong.mask(), wrong), UsageError);
}

TEST_F(InterventionsTest, MeanAblationWritesTheReferenceMean) {
  const std::vector<int32_t> ref_ids = {7, 7, 3, 1};
  auto [ref_logits, ref_cache] = hm->run_with_cache(ref_ids, "blocks.0.mlp.hook_post");
  MeanAccumulator acc;
  acc.add(HookSite::MlpPost, ref_cache["blocks.0.mlp.hook_post"]);
  const Tensor mean = acc.mean();
  const Tensor& r = ref_cache["blocks.0.mlp.hook_post"];
  ASSERT_EQ(mean.shape(), (Shape{r.shape()[2]}));
  for (int64_t n = 0; n < r.shape()[2]; ++n) {
    double s = 0;
    for (int64_t p = 0; p < 4; ++p) s += r.at({0, p, n});
    EXPECT_NEAR(mean.at({n}), s / 4, 1e-6);
  }
  Interventions iv(3);
  iv.mean(hm->plan("blocks.0.mlp.hook_post[neuron=3,10]")->selections()[0], mean);
  const auto [logits, cache] = run(iv);
  const Tensor& post = cache["blocks.0.mlp.hook_post"];
  for (int64_t p = 0; p < int64_t(ids.size()); ++p) {
    EXPECT_EQ(post.at({0, p, 3}), mean.at({3}));
    EXPECT_EQ(post.at({0, p, 10}), mean.at({10}));
  }
}

}  // namespace
}  // namespace gb
