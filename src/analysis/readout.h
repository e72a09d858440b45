// Reading the residual stream as the model's output does: the final norm, then the unembedding.
// Shared by the logit lens and direct logit attribution, plus summaries of a logits row (top-k,
// a target's probability and rank) that several analyses print.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/tokens.h"
#include "core/tensor.h"
#include "model/model.h"

namespace gb::analysis {

// resid [rows, d_model] -> logits [rows, d_vocab] = unembed(final_norm(resid)).
Tensor read_out(const Model& model, const float* resid, int64_t rows);

struct TokenScore {
  int32_t id = -1;
  float logit = 0;
  double prob = 0;  // softmax over the whole vocabulary
};

// A logits row summarised: its top k, and a target token's score and rank (0 = most likely).
struct RowSummary {
  std::vector<TokenScore> top;  // by decreasing logit
  std::optional<TokenScore> target;
  int64_t target_rank = -1;
  double entropy = 0;  // of the softmax, in nats
};

RowSummary summarize_logits(std::span<const float> logits, int top_k,
                            std::optional<int32_t> target);

// log-softmax of a row, in double.
std::vector<double> log_softmax(std::span<const float> logits);

}  // namespace gb::analysis
