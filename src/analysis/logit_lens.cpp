#include "analysis/logit_lens.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gb::analysis {

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

LensReader::LensReader(HookedModel& model, std::span<const int32_t> tokens, const LensOptions& o)
    : model_(model.model()), options_(o) {
  const ModelConfig& c = model_.config();
  if (o.top_k <= 0) usage_fail("top-k must be positive");
  if (o.target && (*o.target < 0 || *o.target >= c.d_vocab))
    usage_fail("target token ", *o.target, " is out of range for a vocabulary of ", c.d_vocab);
  lens_.tokens.assign(tokens.begin(), tokens.end());
  lens_.positions = resolve_positions(o.positions, int64_t(tokens.size()), "lens");
  lens_.target = o.target;
  std::string filter;
  for (int L = 0; L < c.n_layers; ++L) {
    lens_.rows.push_back(hook_name(Stack::Main, L, HookSite::ResidPre));
    filter += lens_.rows.back() + ",";
  }
  lens_.rows.push_back(hook_name(Stack::Main, c.n_layers - 1, HookSite::ResidPost));
  filter += lens_.rows.back();
  plan_ = model.plan(filter);
  lens_.cells.resize(lens_.rows.size() * lens_.positions.size());
  filled_.assign(lens_.cells.size(), 0);
}

void LensReader::on_hook(const HookPoint& point, TensorView& t) {
  // t: [1, chunk, d_model], positions pos0 .. pos0 + chunk - 1.
  const size_t row =
      point.site == HookSite::ResidPost ? lens_.rows.size() - 1 : size_t(point.layer);
  const int64_t chunk = t.shape[1], d = t.shape[2];
  std::vector<size_t> columns;  // the lens positions in this chunk
  std::vector<float> resid;     // [columns, d_model]
  for (size_t i = 0; i < lens_.positions.size(); ++i) {
    const int64_t p = lens_.positions[i] - point.pos0;
    if (p < 0 || p >= chunk) continue;
    columns.push_back(i);
    resid.insert(resid.end(), t.data + p * d, t.data + (p + 1) * d);
  }
  if (columns.empty()) return;
  const Tensor logits = read_out(model_, resid.data(), int64_t(columns.size()));
  const int64_t vocab = logits.shape()[1];
  for (size_t k = 0; k < columns.size(); ++k) {
    const RowSummary s = summarize_logits({logits.data() + int64_t(k) * vocab, size_t(vocab)},
                                          options_.top_k, options_.target);
    const size_t cell = row * lens_.positions.size() + columns[k];
    lens_.cells[cell] = {s.top, s.target, s.target_rank, s.entropy};
    filled_[cell] = 1;
  }
}

LogitLens LensReader::result() const {
  for (uint8_t f : filled_)
    if (!f) fail("logit lens: the run did not reach every layer and position");
  return lens_;
}

LogitLens logit_lens(HookedModel& model, std::span<const int32_t> tokens, const LensOptions& o) {
  LensReader reader(model, tokens, o);
  model.run_observed(tokens, reader.mask(), reader);
  return reader.result();
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
