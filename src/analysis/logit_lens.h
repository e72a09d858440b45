// Logit lens: the residual stream before every block (and after the last one) read through the
// final norm and the unembedding, as if the model stopped there. Each layer × position gives a
// next-token distribution: its top k and the probability and rank of a chosen target token.
// The last row (blocks.{L-1}.hook_resid_post) is exactly the model's own output.
//
//   auto lens = gb::analysis::logit_lens(hooked, tokens, {.top_k = 5, .target = 3681});
//   lens.at(lens.rows.size() - 1, p).top[0]  // the model's own top-1 at position p
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

struct LensOptions {
  int top_k = 5;
  std::optional<int32_t> target;   // a token to follow through the layers
  std::vector<int64_t> positions;  // which positions (negative: from the end); empty: all
};

struct LensCell {
  std::vector<TokenScore> top;  // by decreasing probability
  std::optional<TokenScore> target;
  int64_t target_rank = -1;  // 0 = top-1
  double entropy = 0;        // nats
};

struct LogitLens {
  std::vector<int32_t> tokens;
  std::vector<std::string> rows;   // hook names, input to output: resid_pre of each block, then
                                   // the last block's resid_post
  std::vector<int64_t> positions;  // absolute positions of the columns
  std::optional<int32_t> target;
  std::vector<LensCell> cells;  // [rows.size()][positions.size()]

  const LensCell& at(size_t row, size_t col) const { return cells[row * positions.size() + col]; }
};

LogitLens logit_lens(HookedModel& model, std::span<const int32_t> tokens, const LensOptions& o);

// The lens as an observer, to share a forward pass of `tokens` with other observers (run with
// mask(); chunked runs too), then result(). Reads out each residual hook as it goes by, so only
// one hook's logits [positions, d_vocab] exist at a time.
class LensReader : public Observer {
 public:
  LensReader(HookedModel& model, std::span<const int32_t> tokens, const LensOptions& o);
  const HookMask& mask() const { return plan_->mask(); }
  void on_hook(const HookPoint& point, TensorView& resid) override;
  // Throws gb::Error if the run did not show every row at every position.
  LogitLens result() const;

 private:
  const Model& model_;
  LensOptions options_;
  std::shared_ptr<const HookPlan> plan_;
  LogitLens lens_;
  std::vector<uint8_t> filled_;  // [rows * positions]
};

// Positions resolved against a sequence of n tokens (negative from the end); empty: all.
// Throws UsageError naming `what` for one out of range.
std::vector<int64_t> resolve_positions(const std::vector<int64_t>& positions, int64_t n,
                                       const std::string& what);

nlohmann::json to_json(const LogitLens& lens, const TokenLabeler& label = id_label);

}  // namespace gb::analysis
