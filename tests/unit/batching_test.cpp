// Batches of unequal length (right-padded, TokenBatch::lengths), the F16 KV cache, and the
// batched corpus statistics: each must give what the plain one-sequence, f32 path gives.
#include <gtest/gtest.h>

#include <cmath>

#include "analysis/activation_stats.h"
#include "core/error.h"
#include "model/model.h"
#include "observe/hooked_model.h"
#include "test_models.h"

namespace gb {
namespace {

class Batching : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<Model> load() { return testing::load_tiny_model(GetParam(), "gb_batching_", 2); }
};

const std::vector<std::vector<int32_t>> kSequences = {
    {3, 14, 15, 9, 2, 6}, {5, 3, 5}, {8, 9, 7, 9, 3}, {2}};

TEST_P(Batching, RaggedBatchEqualsEachAlone) {
  auto model = load();
  const int64_t v = model->config().d_vocab, longest = 6;
  const int batch = int(kSequences.size());
  std::vector<int32_t> ids(size_t(batch * longest), 0);  // padded with token 0
  std::vector<int64_t> lengths;
  for (int b = 0; b < batch; ++b) {
    std::copy(kSequences[size_t(b)].begin(), kSequences[size_t(b)].end(),
              ids.begin() + b * longest);
    lengths.push_back(int64_t(kSequences[size_t(b)].size()));
  }
  KvCache cb = model->new_cache(batch, longest), cl = model->new_cache(batch, longest);
  Tensor all, last;
  model->forward({ids, batch, longest, lengths}, cb, Hooks(), all, {.all_logits = true});
  model->forward({ids, batch, longest, lengths}, cl, Hooks(), last);
  ASSERT_EQ(last.shape(), (Shape{batch, 1, v}));
  for (int b = 0; b < batch; ++b) {
    const auto& seq = kSequences[size_t(b)];
    const int64_t n = int64_t(seq.size());
    KvCache c1 = model->new_cache(1, n);
    Tensor one;
    model->forward({seq, 1, n}, c1, Hooks(), one, {.all_logits = true});
    // The batch and each sequence alone go through different product kernels (by the number of
    // x rows), which round differently: logits of a few units agree to about 1e-5.
    EXPECT_LT(testing::max_abs_diff(one.data(), all.data() + b * longest * v, n * v), 1e-4f)
        << "row " << b;
    EXPECT_LT(testing::max_abs_diff(one.data() + (n - 1) * v, last.data() + b * v, v), 1e-4f)
        << "row " << b;
  }
}

TEST_P(Batching, RaggedBatchNeedsAnEmptyCache) {
  auto model = load();
  const std::vector<int32_t> ids = {1, 2, 3, 4};
  const std::vector<int64_t> lengths = {2, 1};
  KvCache cache = model->new_cache(2, 8);
  Tensor logits;
  model->forward({ids, 2, 2}, cache, Hooks(), logits);
  EXPECT_THROW(model->forward({ids, 2, 2, lengths}, cache, Hooks(), logits), UsageError);
  const std::vector<int64_t> too_long = {3, 1};
  KvCache fresh = model->new_cache(2, 8);
  EXPECT_THROW(model->forward({ids, 2, 2, too_long}, fresh, Hooks(), logits), Error);
}

// Prefill and then decoding one token at a time through an F16 cache stays within a stated
// tolerance of the F32 cache: the logits differ by at most 1% of their largest magnitude (keys
// and values keep 11 significant bits), and they do differ (the F16 path was taken).
TEST_P(Batching, F16CacheStaysCloseToF32) {
  auto model = load();
  const std::vector<int32_t> ids = {1, 7, 2, 9, 4, 4, 8, 3, 6, 5, 11, 12, 13, 2};
  const int64_t prompt = 9, v = model->config().d_vocab;
  KvCache c32 = model->new_cache(1, 16), c16 = model->new_cache(1, 16, DType::F16);
  ASSERT_EQ(c16.dtype(), DType::F16);
  Tensor l32, l16;
  float worst = 0, largest = 0;
  for (int64_t p = 0; p < int64_t(ids.size());) {
    const int64_t n = p == 0 ? prompt : 1;
    const std::span<const int32_t> step(ids.data() + p, size_t(n));
    model->forward({step, 1, n}, c32, Hooks(), l32);
    model->forward({step, 1, n}, c16, Hooks(), l16);
    worst = std::max(worst, testing::max_abs_diff(l32.data(), l16.data(), v));
    for (int64_t i = 0; i < v; ++i) largest = std::max(largest, std::fabs(l32.data()[i]));
    p += n;
  }
  EXPECT_GT(worst, 0.0f);
  EXPECT_LE(worst, 0.01f * largest);
}

INSTANTIATE_TEST_SUITE_P(Families, Batching, ::testing::Values("llama", "gpt2"));

// Corpus statistics run 4 documents per forward pass count exactly what one at a time counts.
TEST(BatchedStats, EqualOneDocumentAtATime) {
  testing::TinyModelSpec spec;
  HookedModel hm(load_model(testing::write_tiny_model(spec, "gb_batched_stats.gguf"), 2));
  const std::vector<std::vector<int32_t>> docs = {
      {1, 2, 3, 4, 5, 6, 7}, {9, 8}, {4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4}, {3}, {7, 1, 7, 1, 9}};
  auto run = [&](int batch) {
    auto s = std::make_unique<analysis::ActivationStats>(
        hm, analysis::StatsOptions{.hooks = "all",
                                   .neurons = {{"blocks.1.mlp.hook_post", 5}},
                                   .window = 10,
                                   .batch = batch});
    for (size_t d = 0; d < docs.size(); ++d) s->add_document(docs[d], int64_t(d + 1));
    s->flush();
    return s;
  };
  const auto one = run(1), four = run(4);
  ASSERT_EQ(one->hooks().size(), four->hooks().size());
  EXPECT_EQ(four->tokens(), 27);
  EXPECT_EQ(four->split_documents(), 1);
  for (size_t i = 0; i < one->hooks().size(); ++i) {
    const auto &a = one->hooks()[i], &b = four->hooks()[i];
    ASSERT_EQ(a.name, b.name);
    EXPECT_EQ(a.positions, b.positions) << a.name;
    EXPECT_EQ(a.channels.count, b.channels.count) << a.name;
    EXPECT_EQ(a.histogram.total(), b.histogram.total()) << a.name;
    for (int64_t c = 0; c < a.channels.channels(); ++c) {
      const size_t k = size_t(c);
      // (different product kernels for one window and for four: rounding, see above)
      EXPECT_NEAR(a.channels.mean[k], b.channels.mean[k], 1e-4) << a.name << " channel " << c;
      EXPECT_NEAR(a.channels.max[k], b.channels.max[k], 1e-4) << a.name << " channel " << c;
    }
  }
  const auto ta = one->top_contexts(), tb = four->top_contexts();
  ASSERT_EQ(ta.size(), 1u);
  ASSERT_EQ(ta[0].top.size(), tb[0].top.size());
  for (size_t i = 0; i < ta[0].top.size(); ++i) {
    EXPECT_EQ(ta[0].top[i].document, tb[0].top[i].document);
    EXPECT_EQ(ta[0].top[i].position, tb[0].top[i].position);
    EXPECT_EQ(ta[0].top[i].context, tb[0].top[i].context);
  }
}

}  // namespace
}  // namespace gb
