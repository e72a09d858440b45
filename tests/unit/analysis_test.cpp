// Invariants of the analyses that need no reference implementation: the logit lens's last row is
// the model's output, attributions sum to the logit, streaming statistics equal a direct
// computation however the values are split into blocks, identical runs diff to zero.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "analysis/activation_stats.h"
#include "analysis/channel_stats.h"
#include "analysis/corpus.h"
#include "analysis/logit_attribution.h"
#include "analysis/logit_lens.h"
#include "analysis/nan_origin.h"
#include "analysis/run_diff.h"
#include "analysis/value_histogram.h"
#include "core/error.h"
#include "export/histogram.h"
#include "test_models.h"

namespace gb::analysis {
namespace {

class Analyses : public ::testing::TestWithParam<std::string> {
 protected:
  HookedModel load(unsigned seed = 1) {
    testing::TinyModelSpec spec;
    spec.arch = GetParam();
    spec.seed = seed;
    return HookedModel(
        load_model(testing::write_tiny_model(
                       spec, "gb_analysis_" + spec.arch + std::to_string(seed) + ".gguf"),
                   2));
  }
  const std::vector<int32_t> tokens_ = {3, 14, 15, 9, 2, 6, 5, 35, 8, 9, 7};
};

TEST_P(Analyses, LensLastRowIsTheModelOutput) {
  HookedModel hm = load();
  const Tensor logits = hm.run(tokens_);  // [1, pos, vocab]
  const int64_t n = int64_t(tokens_.size()), v = logits.shape()[2];
  const std::string last =
      hook_name(Stack::Main, hm.model().config().n_layers - 1, HookSite::ResidPost);
  const CachedRun run = hm.run_with_cache(tokens_, last);
  const Tensor read = read_out(hm.model(), run.cache[last].data(), n);
  ASSERT_EQ(read.shape(), (Shape{n, v}));
  float worst = 0;
  for (int64_t i = 0; i < n * v; ++i)
    worst = std::max(worst, std::fabs(read.data()[i] - logits.data()[i]));
  EXPECT_LT(worst, 1e-4f);

  const LogitLens lens = logit_lens(hm, tokens_, {.top_k = 5, .target = 7, .positions = {}});
  ASSERT_EQ(lens.rows.size(), size_t(hm.model().config().n_layers + 1));
  EXPECT_EQ(lens.rows.back(), last);
  for (int64_t p = 0; p < n; ++p) {
    const RowSummary want = summarize_logits({logits.data() + p * v, size_t(v)}, 5, 7);
    const LensCell& got = lens.at(lens.rows.size() - 1, size_t(p));
    ASSERT_EQ(got.top.size(), 5u);
    for (size_t k = 0; k < 5; ++k) {
      EXPECT_EQ(got.top[k].id, want.top[k].id) << "position " << p << " rank " << k;
      EXPECT_NEAR(got.top[k].prob, want.top[k].prob, 1e-6);
    }
    EXPECT_EQ(got.target_rank, want.target_rank);
    EXPECT_NEAR(got.target->prob, want.target->prob, 1e-6);
  }
}

TEST_P(Analyses, AttributionSumsToTheLogit) {
  HookedModel hm = load();
  const Tensor logits = hm.run(tokens_);
  const int64_t v = logits.shape()[2];
  const ModelConfig& c = hm.model().config();
  for (int64_t pos : {int64_t(0), int64_t(4), int64_t(-1)}) {
    for (std::optional<int32_t> contrast : {std::optional<int32_t>(), std::optional<int32_t>(11)}) {
      const Attribution a =
          attribute_logit(hm, tokens_, {.position = pos, .target = 7, .contrast = contrast});
      const int64_t p = pos < 0 ? int64_t(tokens_.size()) + pos : pos;
      const double want = double(logits.data()[p * v + 7]) -
                          (contrast ? double(logits.data()[p * v + *contrast]) : 0.0);
      EXPECT_NEAR(a.actual, want, 1e-5) << "position " << pos;
      EXPECT_NEAR(a.total(), a.actual, 1e-4) << "position " << pos;
      // one part per head and per MLP, plus the embeddings
      const size_t embeds = hm.model().has_site(HookSite::PosEmbed) ? 2 : 1;
      EXPECT_EQ(a.components.size(), embeds + size_t(c.n_layers) * (c.n_heads + 1));
      EXPECT_EQ(a.centred, c.family == Family::Gpt2);
    }
  }
}

TEST_P(Analyses, IdenticalRunsDiffToZero) {
  HookedModel a = load(), b = load();
  const RunDiff d = diff_runs(a, tokens_, b, tokens_, {});
  ASSERT_GT(d.hooks.size(), 20u);
  for (const HookDiff& h : d.hooks) {
    EXPECT_EQ(h.rel_error, 0) << h.name;
    EXPECT_EQ(h.max_abs, 0) << h.name;
  }
  EXPECT_EQ(d.kl_max, 0);
  EXPECT_EQ(d.top1_agreement, 1);
  EXPECT_FALSE(d.first_hook);
  HookedModel other = load(2);  // other weights: not zero
  const RunDiff e = diff_runs(a, tokens_, other, tokens_, {});
  EXPECT_TRUE(e.first_hook);
  EXPECT_GT(e.kl_mean, 0);
}

TEST_P(Analyses, CleanModelHasNoNonFiniteValue) {
  HookedModel hm = load();
  const Diagnosis d = diagnose(hm, tokens_);
  EXPECT_FALSE(d.first);
  EXPECT_TRUE(d.nonfinite_hooks.empty());
  EXPECT_EQ(size_t(d.hooks_checked), hm.catalog().entries.size());
}

INSTANTIATE_TEST_SUITE_P(Families, Analyses, ::testing::Values("gpt2", "llama"));

TEST(AnalysisModels, DifferentArchitecturesAreRefusedByName) {
  testing::TinyModelSpec s;
  auto a = load_model(testing::write_tiny_model(s, "gb_cmp_a.gguf"), 1);
  s.vocab = 60;
  auto b = load_model(testing::write_tiny_model(s, "gb_cmp_b.gguf"), 1);
  try {
    check_comparable(*a, *b);
    FAIL() << "models of different vocabularies were accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("vocabulary size"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("60"), std::string::npos) << e.what();
  }
}

// A direct computation: every value at once, in double.
struct Direct {
  int64_t count = 0, nans = 0, infs = 0, zeros = 0;
  double mean = 0, var = 0;
  float min = INFINITY, max = -INFINITY;
};

Direct direct(const std::vector<float>& v) {
  Direct d;
  double s = 0;
  for (float x : v) {
    if (std::isnan(x)) ++d.nans;
    if (std::isinf(x)) ++d.infs;
    if (!std::isfinite(x)) continue;
    ++d.count;
    s += x;
    d.zeros += x == 0;
    d.min = std::min(d.min, x);
    d.max = std::max(d.max, x);
  }
  d.mean = s / double(d.count);
  for (float x : v)
    if (std::isfinite(x)) d.var += (x - d.mean) * (x - d.mean);
  d.var /= double(d.count);
  return d;
}

// Channels 0-15 and 16-31 are whole strips (the first holds NaN and -Inf, the second none), 32-36
// a narrower one.
TEST(ChannelStatsTest, BlocksOfAnySizeGiveTheDirectStatistics) {
  const int64_t C = 37;
  std::mt19937 rng(3);
  std::normal_distribution<float> dist(1000.0f, 0.01f);  // large mean, small spread
  std::vector<std::vector<float>> per_channel(C);
  ChannelStats rows(C, 1000.0f), values(C, 1000.0f);
  for (int64_t block : {1, 7, 2, 64, 3, 1, 30}) {
    std::vector<float> x(size_t(block * C));  // [block, C]
    for (int64_t r = 0; r < block; ++r)
      for (int64_t c = 0; c < C; ++c) {
        float v = c == 3 && r == 0 ? 0.0f : dist(rng);
        if (c == 1 && r == 1) v = std::numeric_limits<float>::quiet_NaN();
        if (c == 2 && r == 2) v = -std::numeric_limits<float>::infinity();
        x[size_t(r * C + c)] = v;
        per_channel[size_t(c)].push_back(v);
      }
    rows.add_rows(x.data(), block);
    for (int64_t c = 0; c < C; ++c) {
      std::vector<float> col;
      for (int64_t r = 0; r < block; ++r) col.push_back(x[size_t(r * C + c)]);
      values.add_values(c, col);
    }
  }
  for (const ChannelStats* s : {&rows, &values})
    for (int64_t c = 0; c < C; ++c) {
      const Direct d = direct(per_channel[size_t(c)]);
      EXPECT_EQ(s->count[size_t(c)], d.count);
      EXPECT_EQ(s->nans[size_t(c)], d.nans);
      EXPECT_EQ(s->infs[size_t(c)], d.infs);
      EXPECT_EQ(s->zeros[size_t(c)], d.zeros);
      EXPECT_EQ(s->min[size_t(c)], d.min);
      EXPECT_EQ(s->max[size_t(c)], d.max);
      EXPECT_NEAR(s->mean[size_t(c)], d.mean, 1e-9 * std::fabs(d.mean));
      // summed in float over runs of 16 rows (channel_stats.cpp): about 1e-6 relative
      EXPECT_NEAR(s->variance(c), d.var, 3e-6 * d.var + 1e-12) << "channel " << c;
    }
}

// A block counted in parts (as count_block splits one over threads), each into statistics of its
// own, merged, gives the statistics of the whole; a reset one counts like a new one, also when it
// changes its number of channels. With NaN in some channels (their counts then differ, and the
// moments are merged channel by channel) and without (all channels in one update).
TEST(ChannelStatsTest, MergedPartsCountLikeTheWholeAndResetOnesLikeNew) {
  for (const bool with_nan : {true, false}) {
    const int64_t C = 21, rows = 50;  // a strip of 16 channels and a narrower one
    std::mt19937 rng(5);
    std::normal_distribution<float> dist(-3.0f, 2.0f);
    std::vector<float> x(size_t(rows * C));  // [rows, C]
    for (float& v : x) v = dist(rng);
    if (with_nan) {
      x[size_t(30 * C + 4)] = std::numeric_limits<float>::quiet_NaN();  // in the second part
      x[5] = std::numeric_limits<float>::quiet_NaN();  // also in what `part` counts before reset
    }
    x[size_t(2 * C + 17)] = 0.0f;
    std::vector<std::vector<float>> per_channel(C);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < C; ++c) per_channel[size_t(c)].push_back(x[size_t(r * C + c)]);
    ChannelStats whole(C, -3.0f), part(7, -3.0f);
    whole.add_rows(x.data(), 20);
    part.add_rows(x.data(), 3);  // counted before the reset, so not in the merge
    part.reset(C);
    part.add_rows(x.data() + 20 * C, rows - 20);
    whole.merge(part);
    whole.merge(ChannelStats(C, -3.0f));  // an empty part changes nothing
    for (int64_t c = 0; c < C; ++c) {
      const Direct d = direct(per_channel[size_t(c)]);
      const size_t i = size_t(c);
      EXPECT_EQ(whole.count[i], d.count) << "channel " << c << (with_nan ? " with NaN" : "");
      EXPECT_EQ(whole.nans[i], d.nans);
      EXPECT_EQ(whole.zeros[i], d.zeros);
      EXPECT_EQ(whole.min[i], d.min);
      EXPECT_EQ(whole.max[i], d.max);
      EXPECT_EQ(whole.abs_max[i], std::max(-d.min, d.max));
      EXPECT_EQ(whole.above[i], std::count_if(per_channel[i].begin(), per_channel[i].end(),
                                              [](float v) { return v > -3.0f; }));
      EXPECT_NEAR(whole.mean[i], d.mean, 1e-6 * std::sqrt(d.var));
      EXPECT_NEAR(whole.variance(c), d.var, 3e-6 * d.var) << "channel " << c;
    }
  }
}

// Finite values whose squares (or sums) overflow a float: the block is counted in double instead,
// and every statistic stays finite and right.
TEST(ChannelStatsTest, ValuesTooLargeForFloatSumsAreCountedInDouble) {
  const int64_t C = 32, rows = 40;         // two strips of 16 channels
  std::vector<float> x(size_t(rows * C));  // [rows, C]
  std::vector<std::vector<float>> per_channel(C);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < C; ++c) {
      // channel 0: ±3e20 (squares overflow); channel 16: near FLT_MAX (sums overflow)
      const float v = c == 0    ? (r % 2 ? 3e20f : -3e20f)
                      : c == 16 ? std::numeric_limits<float>::max() / float(1 + r % 3)
                                : float(r + c);
      x[size_t(r * C + c)] = v;
      per_channel[size_t(c)].push_back(v);
    }
  ChannelStats s(C, 0.0f);
  s.add_rows(x.data(), rows);
  for (int64_t c = 0; c < C; ++c) {
    const Direct d = direct(per_channel[size_t(c)]);
    EXPECT_EQ(s.count[size_t(c)], rows);
    EXPECT_EQ(s.infs[size_t(c)], 0);
    EXPECT_NEAR(s.mean[size_t(c)], d.mean, 1e-9 * std::sqrt(d.var) + 1e-9 * std::fabs(d.mean));
    EXPECT_NEAR(s.variance(c), d.var, 3e-6 * d.var) << "channel " << c;
    EXPECT_TRUE(std::isfinite(s.sum_abs[size_t(c)])) << "channel " << c;
  }
}

TEST(ValueHistogramTest, BucketsFollowTheWritersRule) {
  const std::vector<double>& e = default_bucket_edges();
  const size_t zero = (e.size() - 1) / 2;
  EXPECT_EQ(e[zero], 0.0);
  EXPECT_EQ(e[zero + 1], std::ldexp(1.0, -40));
  EXPECT_EQ(e[zero - 1], -std::ldexp(1.0, -40));
  ValueHistogram h;
  h.add(0.0f);                 // [0, 2^-40)
  h.add(-1e-30f);              // [-2^-40, 0)
  h.add(float(e[zero + 40]));  // exactly on an edge: the bucket starting there
  const auto& c = h.counts();
  EXPECT_EQ(c[zero], 1);
  EXPECT_EQ(c[zero - 1], 1);
  EXPECT_EQ(c[zero + 40], 1);
  EXPECT_EQ(h.total(), 3);
  EXPECT_EQ(h.span_counts().size(), 42u);  // buckets zero-1 .. zero+40
  EXPECT_EQ(h.span_edges().size(), 43u);
  // Every edge, its neighbours and values in between land where a binary search over the edges
  // puts them (the last edge <= x).
  ValueHistogram all;
  std::vector<int64_t> want(e.size() - 1, 0);
  std::mt19937 rng(9);
  auto expect_bucket = [&](float x) {
    all.add(x);
    const size_t i = size_t(std::upper_bound(e.begin(), e.end(), double(x)) - e.begin());
    ++want[std::min(i, e.size() - 1) - 1];
  };
  for (size_t i = 1; i + 1 < e.size(); ++i)
    for (float x : {float(e[i]), std::nextafter(float(e[i]), 0.0f),
                    std::nextafter(float(e[i]), float(e[i]) * 2), float(e[i]) * 1.05f})
      if (std::isfinite(x)) expect_bucket(x);
  std::uniform_real_distribution<float> exponent(-40, 30);
  for (int i = 0; i < 10000; ++i)
    expect_bucket((i % 2 ? -1.0f : 1.0f) * std::pow(10.0f, exponent(rng)));
  for (float x : {0.0f, -0.0f, std::numeric_limits<float>::max(),
                  -std::numeric_limits<float>::max(), std::numeric_limits<float>::denorm_min()})
    expect_bucket(x);
  EXPECT_EQ(all.counts(), want);

  ValueHistogram m;  // |x| median of {1, -2, 3, 100, -1000}: 3, in the bucket [3, 3.25)
  for (float v : {1.0f, -2.0f, 3.0f, 100.0f, -1000.0f}) m.add(v);
  EXPECT_EQ(m.median_abs(), 3.25);
  EXPECT_EQ(ValueHistogram().median_abs(), 0.0);
}

// add_values on many values at once (counted in partial counts per lane, then folded) gives the
// counts of a binary search over the edges, in calls of every length, NaN and ±Inf left out.
TEST(ValueHistogramTest, BulkAddsMatchABinarySearchOverTheEdges) {
  const std::vector<double>& e = default_bucket_edges();
  std::vector<float> values;
  for (size_t i = 1; i + 1 < e.size(); i += 7)
    for (float x : {float(e[i]), std::nextafter(float(e[i]), 0.0f), -float(e[i]) * 1.05f})
      if (std::isfinite(x)) values.push_back(x);
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int i = 0; i < 20000; ++i) values.push_back(i % 50 == 0 ? 1e-6f * normal(rng) : normal(rng));
  for (float x : {0.0f, -0.0f, std::nanf(""), INFINITY, -INFINITY}) values.push_back(x);
  std::shuffle(values.begin(), values.end(), rng);
  std::vector<int64_t> want(e.size() - 1, 0);
  int64_t finite = 0;
  for (float x : values) {
    if (!std::isfinite(x)) continue;
    const size_t i = size_t(std::upper_bound(e.begin(), e.end(), double(x)) - e.begin());
    ++want[i - 1];
    ++finite;
  }
  for (int64_t call :
       {int64_t(1), int64_t(3), int64_t(511), int64_t(4097), int64_t(values.size())}) {
    ValueHistogram h;
    for (size_t i = 0; i < values.size(); i += size_t(call))
      h.add_values(values.data() + i, std::min<int64_t>(call, int64_t(values.size() - i)));
    EXPECT_EQ(h.counts(), want) << "calls of " << call << " values";
    EXPECT_EQ(h.total(), finite) << "calls of " << call << " values";
  }
}

// Histograms of parts of the values, merged, count what one histogram of all of them counts; a
// cleared histogram counts like a new one (merge and clear visit only the buckets used).
TEST(ValueHistogramTest, MergedPartsCountLikeTheWholeAndClearedOnesLikeNew) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values;
  for (int i = 0; i < 5000; ++i) values.push_back(normal(rng) * (i % 3 == 0 ? 1e-5f : 10.0f));
  values.push_back(NAN);
  ValueHistogram whole, first, second;
  whole.add_values(values.data(), int64_t(values.size()));
  first.add_values(values.data(), 1000);  // small values and large ones in both parts
  second.add_values(values.data() + 1000, int64_t(values.size()) - 1000);
  first.merge(second);
  EXPECT_EQ(first.counts(), whole.counts());
  EXPECT_EQ(first.total(), whole.total());
  second.clear();
  EXPECT_EQ(second.counts(), ValueHistogram().counts());
  EXPECT_EQ(second.total(), 0);
  const float one = 1.0f;
  second.add_values(&one, 1);  // counts again after clear()
  ValueHistogram just_one;
  just_one.add(1.0f);
  EXPECT_EQ(second.counts(), just_one.counts());
  whole.merge(ValueHistogram());  // nothing to add
  EXPECT_EQ(whole.counts(), first.counts());
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  return path;
}

TEST(CorpusTest, ReadsDocumentsAndRejectsBadOnes) {
  testing::TinyModelSpec s;
  auto model = load_model(testing::write_tiny_model(s, "gb_corpus.gguf"), 1);
  CorpusDocument doc;
  {
    CorpusReader r(write_file("gb_c1.jsonl", "{\"tokens\": [1, 2, 3]}\n\n{\"tokens\": [4]}\r\n"),
                   *model, false);
    ASSERT_TRUE(r.next(doc));
    EXPECT_EQ(doc.tokens, (std::vector<int32_t>{1, 2, 3}));
    EXPECT_EQ(doc.line, 1);
    ASSERT_TRUE(r.next(doc));
    EXPECT_EQ(doc.tokens, (std::vector<int32_t>{4}));
    EXPECT_EQ(doc.line, 3);
    EXPECT_FALSE(r.next(doc));
  }
  auto message = [&](const std::string& path) {
    try {
      CorpusReader r(path, *model, false);
      while (r.next(doc)) {
      }
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(write_file("gb_c2.txt", "\n \n")).find("corpus has no documents"),
            std::string::npos);
  EXPECT_NE(message(write_file("gb_c3.jsonl", "{\"text\": 5}\n")).find(":1: expected"),
            std::string::npos);
  // The tiny model has no tokenizer: text needs ids.
  EXPECT_NE(message(write_file("gb_c4.txt", "hello\n")).find("has no tokenizer"),
            std::string::npos);
}

TEST(ActivationStatsTest, NeuronSpecsAreChecked) {
  EXPECT_EQ(parse_neuron("blocks.1.mlp.hook_post:37").channel, 37);
  EXPECT_THROW(parse_neuron("blocks.1.mlp.hook_post"), UsageError);
  EXPECT_THROW(parse_neuron("blocks.1.mlp.hook_post:x"), UsageError);
  testing::TinyModelSpec s;
  HookedModel hm(load_model(testing::write_tiny_model(s, "gb_neuron.gguf"), 1));
  EXPECT_THROW(ActivationStats(hm, {.neurons = {{"blocks.0.mlp.hook_post", 96}}}), UsageError);
  EXPECT_THROW(ActivationStats(hm, {.neurons = {{"blocks.9.mlp.hook_post", 1}}}), UsageError);
  EXPECT_NO_THROW(ActivationStats(hm, {.neurons = {{"blocks.0.mlp.hook_post", 95}}}));
}

// b holds the same statistics as a: counts, extremes and histograms exactly, moments to float
// rounding.
void expect_same_stats(const std::vector<HookStats>& a, const std::vector<HookStats>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    const ChannelStats &x = a[k].channels, &y = b[k].channels;
    ASSERT_EQ(x.channels(), y.channels()) << a[k].name;
    EXPECT_EQ(x.count, y.count) << a[k].name;
    EXPECT_EQ(x.zeros, y.zeros) << a[k].name;
    EXPECT_EQ(x.above, y.above) << a[k].name;
    EXPECT_EQ(x.min, y.min) << a[k].name;
    EXPECT_EQ(x.max, y.max) << a[k].name;
    EXPECT_EQ(x.abs_max, y.abs_max) << a[k].name;
    EXPECT_EQ(a[k].histogram.counts(), b[k].histogram.counts()) << a[k].name;
    for (int64_t c = 0; c < x.channels(); ++c) {
      const size_t i = size_t(c);
      EXPECT_NEAR(x.mean[i], y.mean[i], 1e-6 * std::sqrt(x.variance(c)) + 1e-12) << a[k].name;
      EXPECT_NEAR(x.variance(c), y.variance(c), 3e-6 * x.variance(c)) << a[k].name << " " << c;
      EXPECT_NEAR(x.sum_abs[i], y.sum_abs[i], 1e-6 * x.sum_abs[i]) << a[k].name;
    }
  }
}

// Blocks big enough to be split over threads give the same statistics with three threads as with
// one. mlp.hook_pre's blocks
// of 64 and 40 positions x 512 channels are cut by rows into three parts. Each hook keeps the
// two parts' statistics until flush() merges them; with no memory for that (part_memory 0), one
// set of parts is merged after each block, and then blocks of 40 rows are cut by channels instead
// (fewer than 8 rows per other part per thread: 40 < 8 x 3 x 2).
TEST(ActivationStatsTest, ThreadsCountLikeOne) {
  testing::TinyModelSpec spec;
  spec.d_model = 256;
  spec.d_mlp = 512;
  const std::string path = testing::write_tiny_model(spec, "gb_stats_threads.gguf");
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> token(0, spec.vocab - 1);
  std::vector<std::vector<int32_t>> docs;
  for (const int n : {64, 40, 40, 64}) docs.emplace_back(size_t(n));
  for (auto& d : docs)
    for (int32_t& t : d) t = token(rng);
  auto run = [&](int threads, int64_t part_memory) {
    auto hm = std::make_unique<HookedModel>(load_model(path, threads));
    auto stats = std::make_unique<ActivationStats>(
        *hm, StatsOptions{.hooks = "blocks.*.mlp.hook_pre,blocks.*.hook_resid_post",
                          .part_memory = part_memory});
    for (const auto& d : docs) stats->add_document(d);
    stats->flush();
    return std::pair(std::move(hm), std::move(stats));
  };
  const auto one = run(1, 0);
  for (const int64_t part_memory : {int64_t(1) << 26, int64_t(0)}) {
    SCOPED_TRACE("part_memory " + std::to_string(part_memory));
    const auto three = run(3, part_memory);
    expect_same_stats(one.second->hooks(), three.second->hooks());
  }
}

}  // namespace
}  // namespace gb::analysis
