#include "analysis/head_scores.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>
#include <unordered_set>

#include "core/error.h"

namespace gb::analysis {
namespace {

// For one sequence, the keys each detection pattern names for every query.
struct Targets {
  std::vector<std::vector<int64_t>> duplicate, induction;  // [q] -> keys
};

Targets detection_targets(std::span<const int32_t> t) {
  const int64_t n = int64_t(t.size());
  Targets d{std::vector<std::vector<int64_t>>(size_t(n)),
            std::vector<std::vector<int64_t>>(size_t(n))};
  for (int64_t q = 0; q < n; ++q)
    for (int64_t k = 0; k < q; ++k)
      if (t[size_t(k)] == t[size_t(q)]) {
        d.duplicate[size_t(q)].push_back(k);
        d.induction[size_t(q)].push_back(k + 1);  // k + 1 <= q
      }
  return d;
}

// Sums over queries of one head's score and how many queries counted.
struct Accum {
  double sum[kHeadScoreCount] = {};
  int64_t n[kHeadScoreCount] = {};
  void add(HeadScore s, double v) {
    sum[int(s)] += v;
    ++n[int(s)];
  }
};

// Sees each layer's pattern [1, n_heads, q, k] and adds the chosen scores of every head.
class PatternScorer : public Observer {
 public:
  PatternScorer(std::span<const int32_t> tokens, bool detection, bool shape_scores,
                std::vector<Accum>& acc, int n_heads)
      : targets_(detection_targets(tokens)),
        detection_(detection),
        shape_(shape_scores),
        acc_(acc),
        n_heads_(n_heads) {}

  void on_hook(const HookPoint& point, TensorView& t) override {
    const int64_t n = t.shape[2], k_len = t.shape[3];
    for (int h = 0; h < n_heads_; ++h) {
      Accum& a = acc_[size_t(point.layer * n_heads_ + h)];
      for (int64_t q = 0; q < n; ++q) {
        const float* p = t.data + (int64_t(h) * n + q) * k_len;  // [k_len]
        if (detection_) score_detection(a, p, q);
        if (shape_ && q > 0) score_shape(a, p, q);
      }
    }
  }

 private:
  void score_detection(Accum& a, const float* p, int64_t q) const {
    if (q > 0) a.add(HeadScore::PrevToken, p[q - 1]);
    auto mass = [&](const std::vector<int64_t>& keys) {
      double s = 0;
      for (int64_t k : keys) s += p[k];
      return s;
    };
    if (!targets_.duplicate[size_t(q)].empty())
      a.add(HeadScore::Duplicate, mass(targets_.duplicate[size_t(q)]));
    if (!targets_.induction[size_t(q)].empty())
      a.add(HeadScore::Induction, mass(targets_.induction[size_t(q)]));
  }

  static void score_shape(Accum& a, const float* p, int64_t q) {
    const RowShape r = attention_row_shape(p, q);
    a.add(HeadScore::Entropy, r.entropy);
    a.add(HeadScore::Sink, r.sink);
    a.add(HeadScore::Distance, r.distance);
  }

  Targets targets_;
  bool detection_, shape_;
  std::vector<Accum>& acc_;
  int n_heads_;
};

}  // namespace

RowShape attention_row_shape(const float* p, int64_t q) {
  RowShape r;
  for (int64_t k = 0; k <= q; ++k) {
    if (p[k] > 0) r.entropy -= double(p[k]) * std::log(double(p[k]));
    r.distance += double(p[k]) * double(q - k);
  }
  r.sink = p[0];
  return r;
}

std::string head_score_name(HeadScore s) {
  static const char* names[] = {"prev_token", "duplicate", "induction",
                                "entropy",    "sink",      "distance"};
  return names[int(s)];
}

std::vector<RankedHead> HeadScores::ranked(HeadScore s) const {
  std::vector<RankedHead> out;
  for (int L = 0; L < n_layers; ++L)
    for (int h = 0; h < n_heads; ++h) out.push_back({L, h, at(s, L, h)});
  const bool ascending = s == HeadScore::Entropy;
  std::stable_sort(out.begin(), out.end(), [&](const RankedHead& a, const RankedHead& b) {
    return ascending ? a.score < b.score : a.score > b.score;
  });
  return out;
}

std::vector<std::vector<int32_t>> repeated_random_sequences(const ModelConfig& c,
                                                            const HeadScoreOptions& o) {
  const int64_t room = int64_t(c.n_ctx) - (o.bos ? 1 : 0);
  const int64_t n = o.repeat_len > 0 ? o.repeat_len : std::min<int64_t>(32, room / 2);
  if (n < 2)
    usage_fail("head scores need repeats of at least 2 tokens (the model's context is ", c.n_ctx,
               ")");
  if (2 * n > room)
    usage_fail("two repeats of ", n, " tokens", o.bos ? " and a BOS" : "",
               " do not fit the model's context of ", c.n_ctx);
  if (o.n_sequences <= 0) usage_fail("the number of random sequences must be positive");
  std::mt19937_64 rng(o.seed);
  const bool distinct = c.d_vocab >= n + 1;
  std::vector<std::vector<int32_t>> out;
  for (int s = 0; s < o.n_sequences; ++s) {
    std::vector<int32_t> r;
    std::unordered_set<int32_t> used;
    while (int64_t(r.size()) < n) {
      const int32_t id = int32_t(rng() % uint64_t(c.d_vocab));
      if (o.bos && id == *o.bos) continue;
      if (distinct && !used.insert(id).second) continue;
      r.push_back(id);
    }
    std::vector<int32_t> seq;
    if (o.bos) seq.push_back(*o.bos);
    seq.insert(seq.end(), r.begin(), r.end());
    seq.insert(seq.end(), r.begin(), r.end());
    out.push_back(seq);
  }
  return out;
}

HeadScores head_scores(HookedModel& model, const HeadScoreOptions& o) {
  const ModelConfig& c = model.model().config();
  HeadScores out;
  out.n_layers = c.n_layers;
  out.n_heads = c.n_heads;
  out.sequences = repeated_random_sequences(c, o);
  out.prompt = o.prompt;
  const size_t n_heads_total = size_t(c.n_layers * c.n_heads);
  auto plan = model.plan("blocks.*.attn.hook_pattern");
  // Per sequence, per head means; then the mean over sequences.
  std::vector<double> sums[kHeadScoreCount];
  std::vector<int64_t> counts[kHeadScoreCount];
  for (int s = 0; s < kHeadScoreCount; ++s) {
    sums[s].assign(n_heads_total, 0.0);
    counts[s].assign(n_heads_total, 0);
  }
  auto run = [&](std::span<const int32_t> tokens, bool detection, bool shape) {
    std::vector<Accum> acc(n_heads_total);
    PatternScorer scorer(tokens, detection, shape, acc, c.n_heads);
    model.run_observed(tokens, *plan, scorer);
    for (size_t i = 0; i < n_heads_total; ++i)
      for (int s = 0; s < kHeadScoreCount; ++s)
        if (acc[i].n[s] > 0) {
          sums[s][i] += acc[i].sum[s] / double(acc[i].n[s]);
          ++counts[s][i];
        }
  };
  for (const auto& seq : out.sequences) run(seq, true, o.prompt.empty());
  if (!o.prompt.empty()) {
    if (o.prompt.size() < 2) usage_fail("head scores need a prompt of at least 2 tokens");
    run(o.prompt, false, true);
  }
  for (int s = 0; s < kHeadScoreCount; ++s) {
    out.scores[s].assign(n_heads_total, 0.0);
    for (size_t i = 0; i < n_heads_total; ++i)
      if (counts[s][i] > 0) out.scores[s][i] = sums[s][i] / double(counts[s][i]);
  }
  return out;
}

nlohmann::json to_json(const HeadScores& s, const TokenLabeler& label) {
  nlohmann::json j = {{"analysis", "head_scores"},
                      {"n_layers", s.n_layers},
                      {"n_heads", s.n_heads},
                      {"sequences", s.sequences},
                      {"prompt", s.prompt}};
  nlohmann::json scores = nlohmann::json::object(), ranked = nlohmann::json::object();
  for (int k = 0; k < kHeadScoreCount; ++k) {
    const HeadScore hs = HeadScore(k);
    nlohmann::json grid = nlohmann::json::array();  // [layer][head]
    for (int L = 0; L < s.n_layers; ++L) {
      nlohmann::json row = nlohmann::json::array();
      for (int h = 0; h < s.n_heads; ++h) row.push_back(s.at(hs, L, h));
      grid.push_back(row);
    }
    scores[head_score_name(hs)] = grid;
    nlohmann::json r = nlohmann::json::array();
    for (const RankedHead& h : s.ranked(hs))
      r.push_back({{"layer", h.layer}, {"head", h.head}, {"score", h.score}});
    ranked[head_score_name(hs)] = r;
  }
  j["scores"] = scores;
  j["ranked"] = ranked;
  if (!s.prompt.empty()) {
    nlohmann::json strings = nlohmann::json::array();
    for (int32_t id : s.prompt) strings.push_back(label(id));
    j["prompt_strings"] = strings;
  }
  return j;
}

}  // namespace gb::analysis
