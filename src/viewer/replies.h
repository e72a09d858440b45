// The JSON of the viewer's replies, built from the analyses' results. Token ids appear as ids;
// each reply carries "labels": {id: text} for the ids it mentions, so a 1,024-token prompt does
// not repeat a token's text at every mention.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/logit_lens.h"
#include "analysis/run_diff.h"
#include "analysis/tokens.h"
#include "core/tensor.h"
#include "viewer/run_capture.h"

namespace gb::viewer {

// Collects the ids a reply mentions and their labels.
class Labels {
 public:
  explicit Labels(analysis::TokenLabeler label) : label_(std::move(label)) {}
  int32_t operator()(int32_t id);  // notes id, returns it
  nlohmann::json json() const;     // {"id": "text", ...}

 private:
  analysis::TokenLabeler label_;
  std::map<int32_t, std::string> seen_;
};

// Per position, the top k next tokens: {"k", "ids": [pos][k], "probs": [pos][k], "entropy": [pos]}.
// logits [1, n, d_vocab].
nlohmann::json predictions_json(const Tensor& logits, int k, Labels& labels);

// A next-token distribution's top k as `glassbox run --json` lists it: [{"id", "token", "prob"}],
// with "clean_prob" when a clean distribution is given (both as log-probabilities [d_vocab]).
nlohmann::json top_json(const std::vector<double>& log_probs, int k, Labels& labels,
                        const std::vector<double>* clean = nullptr);
// KL(clean ‖ changed) in nats.
double kl_divergence(const std::vector<double>& clean, const std::vector<double>& changed);

// Per-layer statistics: {"layers": [{layer, resid_norm, attn_out_norm, mlp_out_norm,
// nonfinite: {hook: count}}], "resid_norm": [n_layers + 1][n] (row 0: block 0's resid_pre)}.
nlohmann::json stats_json(const RunCapture& capture);

// Lens columns [from, to) as one block of positions: {"block", "from", "to", "rows", "k",
// "ids": [row][pos][k], "probs": [row][pos][k], "entropy": [row][pos]}.
nlohmann::json lens_json(const analysis::LogitLens& lens, int64_t block, size_t from, size_t to,
                         Labels& labels);

// Per layer, how far model B's run is from A's: {"layers": [{layer, resid_post, attn_out,
// mlp_out, cosine}], "embed", "first_layer", "threshold", "kl": [pos], "kl_mean", "kl_max",
// "top1_agreement", "top1_a": [pos], "top1_b": [pos]}.
nlohmann::json diff_json(const analysis::RunDiff& d, int n_layers, Labels& labels);

// JSON text, with invalid UTF-8 in strings replaced rather than thrown on.
std::string dump(const nlohmann::json& j);

}  // namespace gb::viewer
