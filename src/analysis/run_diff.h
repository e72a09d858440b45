// Comparing two runs hook by hook: the same tokens through two models (F32 against Q4_0 of the
// same weights, two checkpoints) or one model on two prompts of the same length. Run A is the
// reference: per hook the relative error ‖b − a‖ / ‖a‖, the cosine similarity and the largest
// absolute difference; the first hook and the first layer (by hook_resid_post) whose relative
// error exceeds a threshold; and for the outputs, the KL divergence KL(A‖B) of the next-token
// distributions and how often their top-1 tokens agree.
// Entries that are −inf in both runs (masked attention scores) count as equal.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/tokens.h"
#include "observe/hooked_model.h"

namespace gb::analysis {

struct DiffOptions {
  std::string hooks;       // a hook filter; empty: every hook but attn.hook_result
  double threshold = 0.1;  // relative error that counts as diverged
};

struct HookDiff {
  std::string name;
  int layer = -1;
  HookSite site = HookSite::Embed;
  int64_t numel = 0;
  double rel_error = 0;  // ‖b − a‖ / ‖a‖ (‖b − a‖ when ‖a‖ = 0)
  double cosine = 1;     // a·b / (‖a‖‖b‖); 1 when both are zero
  double max_abs = 0;
  int64_t nonfinite_a = 0, nonfinite_b = 0;  // left out of the numbers above
};

struct RunDiff {
  std::vector<int32_t> tokens_a, tokens_b;
  double threshold = 0;
  std::vector<HookDiff> hooks;          // forward order
  std::optional<size_t> first_hook;     // index into hooks of the first above threshold
  std::optional<int> first_layer;       // first layer whose resid_post is above threshold
  std::vector<double> kl;               // KL(A‖B) per position, nats
  std::vector<int32_t> top1_a, top1_b;  // per position
  double kl_mean = 0, kl_max = 0;
  double top1_agreement = 0;  // fraction of positions
};

// Throws gb::UsageError naming the first difference when the two models cannot be compared
// hook by hook (family, layers, widths, heads, vocabulary size; the tokenizers' tokens when both
// have one).
void check_comparable(const Model& a, const Model& b);

// a and b may be the same HookedModel (two prompts).
RunDiff diff_runs(HookedModel& a, std::span<const int32_t> tokens_a, HookedModel& b,
                  std::span<const int32_t> tokens_b, const DiffOptions& o);

nlohmann::json to_json(const RunDiff& d, const TokenLabeler& label = id_label);

}  // namespace gb::analysis
