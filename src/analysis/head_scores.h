// Attention head scores: what kind of head each head of each layer is.
//
// On generated sequences of random tokens repeated twice ([bos] r_1..r_n r_1..r_n; tokens of a
// repeat drawn without replacement when the vocabulary allows), following TransformerLens's
// head detector and Olsson et al. (2022), each head gets:
//   prev_token: attention from each query q to key q−1;
//   duplicate:  attention from q to earlier keys holding the same token as q;
//   induction:  attention from q to the keys just after earlier occurrences of q's token.
// Each is the attention mass on the keys the pattern names, averaged over the queries that have
// at least one such key (so a perfect head scores 1; TransformerLens divides by all queries
// instead), then over the sequences.
// On the prompt when one is given (else on the same random sequences), every head also gets,
// averaged over queries q ≥ 1 (query 0 can only attend to itself):
//   entropy:  of its attention distribution, in nats;
//   sink:     attention on position 0 (the BOS / first token);
//   distance: mean distance q − k of the keys it attends to.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/readout.h"
#include "observe/hooked_model.h"

namespace gb::analysis {

enum class HeadScore { PrevToken, Duplicate, Induction, Entropy, Sink, Distance };
inline constexpr int kHeadScoreCount = 6;

std::string head_score_name(HeadScore s);  // "prev_token", ...

struct HeadScoreOptions {
  int64_t repeat_len = 0;  // random tokens per repeat; 0: min(32, (n_ctx − 1) / 2)
  int n_sequences = 4;
  uint64_t seed = 0;
  std::optional<int32_t> bos;   // put in front of every random sequence
  std::vector<int32_t> prompt;  // entropy, sink, distance on this when not empty
};

struct RankedHead {
  int layer = 0, head = 0;
  double score = 0;
};

struct HeadScores {
  int n_layers = 0, n_heads = 0;
  std::vector<std::vector<int32_t>> sequences;  // the random sequences used
  std::vector<int32_t> prompt;                  // empty: the last three scores are on `sequences`
  std::vector<double> scores[kHeadScoreCount];  // each [n_layers * n_heads]

  double at(HeadScore s, int layer, int head) const {
    return scores[int(s)][size_t(layer * n_heads + head)];
  }
  // Every head by decreasing score (increasing for entropy: focused heads first).
  std::vector<RankedHead> ranked(HeadScore s) const;
};

HeadScores head_scores(HookedModel& model, const HeadScoreOptions& o);

// The repeated random sequences head_scores uses for these options.
std::vector<std::vector<int32_t>> repeated_random_sequences(const ModelConfig& c,
                                                            const HeadScoreOptions& o);

nlohmann::json to_json(const HeadScores& s, const TokenLabeler& label = id_label);

// The entropy, sink and distance of one query row of a causal pattern: p holds the attention of
// query q on keys 0 .. q (at least q + 1 values).
struct RowShape {
  double entropy = 0;   // −Σ p log p over the keys with p > 0, in nats
  double sink = 0;      // p[0]
  double distance = 0;  // Σ p[k] (q − k)
};
RowShape attention_row_shape(const float* p, int64_t q);

}  // namespace gb::analysis
