// The viewer's pieces that need no browser: the compact forms of activations (each against a
// direct computation), the page assembly, base64, and the Session's replies on a tiny model —
// attention bytes against the model's own cached patterns, the same bytes when layers are
// recomputed under a zero memory budget, and errors for bad requests.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "observe/hooked_model.h"
#include "test_models.h"
#include "viewer/assets.h"
#include "viewer/compact.h"
#include "viewer/session.h"
#include "viewer/static_page.h"

namespace gb::viewer {
namespace {

// [heads, n, n] causal rows that sum to 1.
std::vector<float> random_patterns(int64_t heads, int64_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> p(size_t(heads * n * n), 0.0f);
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t q = 0; q < n; ++q) {
      float* row = p.data() + (h * n + q) * n;
      float sum = 0;
      for (int64_t k = 0; k <= q; ++k) sum += row[k] = std::pow(u(rng), 4.0f);
      for (int64_t k = 0; k <= q; ++k) row[k] /= sum;
    }
  return p;
}

TEST(ViewerCompact, PackedPatternsHoldTheLowerTriangleIn8Bits) {
  const int64_t heads = 3, n = 9;
  const auto p = random_patterns(heads, n, 1);
  std::vector<uint8_t> packed(size_t(heads * packed_size(n)));
  pack_patterns(p.data(), heads, n, packed.data());
  size_t i = 0;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t q = 0; q < n; ++q)
      for (int64_t k = 0; k <= q; ++k, ++i)
        EXPECT_LE(std::fabs(packed[i] / 255.0 - p[size_t((h * n + q) * n + k)]), 0.5 / 255 + 1e-7);
  EXPECT_EQ(i, packed.size());
}

TEST(ViewerCompact, ThumbnailsAreTheMaximumOfEachBlock) {
  const int64_t heads = 2, n = 37, t = 8;
  const auto p = random_patterns(heads, n, 2);
  std::vector<uint8_t> thumbs(size_t(heads * t * t));
  pattern_thumbnails(p.data(), heads, n, t, thumbs.data());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t a = 0; a < t; ++a)
      for (int64_t b = 0; b < t; ++b) {
        float m = 0;  // the largest weight of queries and keys that map to cell (a, b)
        for (int64_t q = 0; q < n; ++q)
          for (int64_t k = 0; k < n; ++k)
            if (q * t / n == a && k * t / n == b) m = std::max(m, p[size_t((h * n + q) * n + k)]);
        EXPECT_EQ(thumbs[size_t((h * t + a) * t + b)], uint8_t(std::lround(m * 255)));
      }
  EXPECT_EQ(thumbnail_side(20, 32), 20);
  EXPECT_EQ(thumbnail_side(1024, 32), 32);
}

TEST(ViewerCompact, ColumnsQuantizePerColumnAndTopColumnsRankByMaximum) {
  const int64_t n = 5, d = 4;
  std::vector<float> x = {0.5f, -2, 0, 1,  //
                          1.5f, 4,  0, 1,  //
                          -0.25f, 1, 0, NAN,  //
                          0.0f, -8, 0, 3,  //
                          1.0f, 0,  0, -1};
  std::vector<int8_t> q(size_t(n * d));
  std::vector<float> scale(static_cast<size_t>(d));  // not size_t(d): a function declaration
  quantize_columns(x.data(), n, d, q.data(), scale.data());
  EXPECT_FLOAT_EQ(scale[0], 1.5f / 127);
  EXPECT_FLOAT_EQ(scale[1], 8.0f / 127);
  EXPECT_EQ(scale[2], 0.0f);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) {
      const float v = x[size_t(i * d + j)];
      if (!std::isfinite(v)) {
        EXPECT_EQ(q[size_t(i * d + j)], 0);
        continue;
      }
      EXPECT_LE(std::fabs(q[size_t(i * d + j)] * scale[size_t(j)] - v), scale[size_t(j)] / 2 + 1e-6);
    }
  const auto top = top_columns(x.data(), n, d, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].neuron, 1);  // max 4 at position 1
  EXPECT_EQ(top[0].at, 1);
  EXPECT_EQ(top[1].neuron, 3);  // max 3 at position 3, NaN left out
  EXPECT_EQ(top[1].at, 3);
  EXPECT_DOUBLE_EQ(top[1].mean, 1.0);
  EXPECT_EQ(top[2].neuron, 0);
}

TEST(ViewerPage, InlinesEveryAssetAndSetsThePolicy) {
  const std::string live = page_html(PageMode::Server);
  EXPECT_EQ(live.find("gb:inline"), std::string::npos);
  EXPECT_NE(live.find("connect-src 'self'"), std::string::npos);
  EXPECT_NE(live.find(std::string(asset("js/head_view.js")).substr(0, 200)), std::string::npos);
  // Recorded data cannot end its script element.
  const std::string saved = page_html(PageMode::Static, R"({"x": "</script><!--"})");
  EXPECT_NE(saved.find("connect-src 'none'"), std::string::npos);
  EXPECT_NE(saved.find(R"({"x": "\u003c/script>\u003c!--"})"), std::string::npos);
  EXPECT_THROW(asset("nothing.js"), Error);
}

TEST(ViewerPage, Base64) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64(std::string("\xff\x00\x10", 3)), "/wAQ");
}

class ViewerSession : public ::testing::Test {
 protected:
  ViewerSession() {
    testing::TinyModelSpec spec;
    spec.arch = "llama";
    model_ = std::make_unique<HookedModel>(load_model(testing::write_tiny_model(spec, "gb_viewer.gguf"), 2));
  }
  Reply get(Session& s, Reply (Session::*handler)(const ApiRequest&),
            std::map<std::string, std::string> query) {
    return (s.*handler)({.query = std::move(query), .body = ""});
  }
  std::unique_ptr<HookedModel> model_;
  const std::vector<int32_t> tokens_ = {3, 14, 15, 9, 2, 6, 5, 35, 8, 9, 7};
};

TEST_F(ViewerSession, AttentionRepliesAreTheModelsPatterns) {
  SessionOptions full, none;
  none.layer_budget = 0;  // every layer recomputed when asked for
  Session a(*model_, nullptr, full), b(*model_, nullptr, none);
  const std::string body = nlohmann::json{{"tokens", tokens_}}.dump();
  const auto run_a = nlohmann::json::parse(a.run({.query = {}, .body = body}).body);
  const auto run_b = nlohmann::json::parse(b.run({.query = {}, .body = body}).body);
  EXPECT_EQ(run_a["tokens"], tokens_);
  auto [logits, cache] = model_->run_with_cache(tokens_, "blocks.*.attn.hook_pattern");
  const int64_t n = int64_t(tokens_.size()), heads = model_->model().config().n_heads;
  for (int layer : {1, 0, 1}) {
    const std::string L = std::to_string(layer);
    const Reply ra = get(a, &Session::attention, {{"run", run_a["run"].dump()}, {"layer", L}});
    const Reply rb = get(b, &Session::attention, {{"run", run_b["run"].dump()}, {"layer", L}});
    EXPECT_EQ(ra.type, "application/octet-stream");
    EXPECT_EQ(ra.body, rb.body) << "layer " << layer;
    const Tensor& p = cache["blocks." + L + ".attn.hook_pattern"];
    std::vector<uint8_t> want(size_t(heads * packed_size(n)));
    pack_patterns(p.data(), heads, n, want.data());
    EXPECT_EQ(ra.body, std::string(want.begin(), want.end()));
  }
}

TEST_F(ViewerSession, BadRequestsAreHttpErrors) {
  Session s(*model_, nullptr, {});
  auto status = [&](auto fn) {
    try {
      fn();
    } catch (const HttpError& e) {
      return e.status();
    }
    return 200;
  };
  EXPECT_EQ(status([&] { s.run({.query = {}, .body = "{"}); }), 400);
  EXPECT_EQ(status([&] { s.run({.query = {}, .body = R"({"text": "a"})"}); }), 400);  // no tokenizer
  EXPECT_EQ(status([&] { s.run({.query = {}, .body = nlohmann::json{{"tokens", std::vector<int>(65, 1)}}.dump()}); }), 413);
  const auto run = nlohmann::json::parse(s.run({.query = {}, .body = R"({"tokens": [1, 2, 3]})"}).body);
  const std::string id = run["run"].dump();
  EXPECT_EQ(status([&] { get(s, &Session::attention, {{"run", id}, {"layer", "2"}}); }), 400);
  EXPECT_EQ(status([&] { get(s, &Session::attention, {{"run", "77"}, {"layer", "0"}}); }), 404);
  EXPECT_EQ(status([&] { get(s, &Session::ablate, {{"run", id}, {"heads", "0.4"}}); }), 400);
  EXPECT_EQ(status([&] { get(s, &Session::diff, {{"run", id}}); }), 404);
  EXPECT_EQ(status([&] { get(s, &Session::lens, {{"run", id}, {"block", "0"}}); }), 200);
}

}  // namespace
}  // namespace gb::viewer
