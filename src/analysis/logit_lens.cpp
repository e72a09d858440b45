#include "analysis/logit_lens.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gb::analysis {
namespace {

// Reads out the chosen positions of each residual hook as it goes by, so only one layer's
// logits [positions, d_vocab] exist at a time.
class LensObserver : public Observer {
 public:
  LensObserver(const Model& model, const LensOptions& o, LogitLens& out)
      : model_(model), options_(o), out_(out) {}

  void on_hook(const HookPoint& point, TensorView& t) override {
    const int64_t d = t.shape[2];
    std::vector<float> rows;  // [positions, d_model]
    for (int64_t p : out_.positions) {
      const float* r = t.data + (p - point.pos0) * d;
      rows.insert(rows.end(), r, r + d);
    }
    const Tensor logits = read_out(model_, rows.data(), int64_t(out_.positions.size()));
    const int64_t vocab = logits.shape()[1];
    for (size_t i = 0; i < out_.positions.size(); ++i) {
      const RowSummary s = summarize_logits({logits.data() + int64_t(i) * vocab, size_t(vocab)},
                                            options_.top_k, options_.target);
      out_.cells.push_back({s.top, s.target, s.target_rank, s.entropy});
    }
  }

 private:
  const Model& model_;
  const LensOptions& options_;
  LogitLens& out_;
};

}  // namespace

std::vector<int64_t> resolve_positions(const std::vector<int64_t>& positions, int64_t n,
                                       const std::string& what) {
  std::vector<int64_t> out;
  if (positions.empty()) {
    for (int64_t p = 0; p < n; ++p) out.push_back(p);
    return out;
  }
  for (int64_t p : positions) {
    const int64_t abs = p < 0 ? n + p : p;
    if (abs < 0 || abs >= n)
      usage_fail(what, ": position ", p, " is out of range for ", n, " tokens");
    out.push_back(abs);
  }
  return out;
}

LogitLens logit_lens(HookedModel& model, std::span<const int32_t> tokens, const LensOptions& o) {
  const ModelConfig& c = model.model().config();
  if (o.top_k <= 0) usage_fail("top-k must be positive");
  if (o.target && (*o.target < 0 || *o.target >= c.d_vocab))
    usage_fail("target token ", *o.target, " is out of range for a vocabulary of ", c.d_vocab);
  LogitLens lens;
  lens.tokens.assign(tokens.begin(), tokens.end());
  lens.positions = resolve_positions(o.positions, int64_t(tokens.size()), "lens");
  lens.target = o.target;
  std::string filter;
  for (int L = 0; L < c.n_layers; ++L) {
    lens.rows.push_back(hook_name(Stack::Main, L, HookSite::ResidPre));
    filter += lens.rows.back() + ",";
  }
  lens.rows.push_back(hook_name(Stack::Main, c.n_layers - 1, HookSite::ResidPost));
  filter += lens.rows.back();
  auto plan = model.plan(filter);
  LensObserver observer(model.model(), o, lens);
  model.run_observed(tokens, *plan, observer);
  return lens;
}

namespace {

nlohmann::json score_json(const TokenScore& s, const TokenLabeler& label) {
  return {{"id", s.id}, {"token", label(s.id)}, {"logit", s.logit}, {"prob", s.prob}};
}

}  // namespace

nlohmann::json to_json(const LogitLens& lens, const TokenLabeler& label) {
  nlohmann::json j = {{"analysis", "logit_lens"},
                      {"tokens", lens.tokens},
                      {"rows", lens.rows},
                      {"positions", lens.positions}};
  nlohmann::json strings = nlohmann::json::array();
  for (int32_t id : lens.tokens) strings.push_back(label(id));
  j["token_strings"] = strings;
  if (lens.target) j["target"] = {{"id", *lens.target}, {"token", label(*lens.target)}};
  nlohmann::json grid = nlohmann::json::array();
  for (size_t r = 0; r < lens.rows.size(); ++r) {
    nlohmann::json row = nlohmann::json::array();
    for (size_t p = 0; p < lens.positions.size(); ++p) {
      const LensCell& cell = lens.at(r, p);
      nlohmann::json top = nlohmann::json::array();
      for (const TokenScore& s : cell.top) top.push_back(score_json(s, label));
      nlohmann::json cj = {{"top", top}, {"entropy", cell.entropy}};
      if (cell.target) {
        cj["target"] = score_json(*cell.target, label);
        cj["target_rank"] = cell.target_rank;
      }
      row.push_back(cj);
    }
    grid.push_back(row);
  }
  j["cells"] = grid;
  return j;
}

}  // namespace gb::analysis
