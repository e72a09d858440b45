// Where a NaN or Inf first appears: every hook of a run is checked, in forward order, and the
// first non-finite value is located (hook, layer, position, channel) together with the finite
// inputs that produced it: the input activations at that position (the previous step's hooks)
// and the weights involved (the weight row of that output channel, norm weights, biases).
//
//   auto d = gb::analysis::diagnose(hooked, tokens);
//   if (d.first) std::cout << d.first->hook << " pos " << d.first->position;
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

// A row of values (an activation at one position, a weight row, a norm vector) summarised.
struct ValueSummary {
  std::string what;   // "blocks.1.ln2.hook_normalized", "blk.1.ffn_up.weight"
  std::string where;  // "position 3", "row 17", "head 2, position 3"
  int64_t n = 0;
  int64_t nan = 0, inf = 0;
  int64_t first_nonfinite = -1;  // index of the first NaN/Inf in the row
  float min = 0, max = 0, abs_max = 0;
  bool finite() const { return nan == 0 && inf == 0; }
};

struct NonFiniteValue {
  std::string hook;
  HookSite site = HookSite::Embed;
  int layer = -1;
  int64_t position = 0;      // absolute (the query position for attention matrices)
  int64_t channel = 0;       // flat index over the axes after the position axis; the head for
                             // attention matrices
  std::string channel_desc;  // "channel 17", "head 2, dim 5", "head 1, key 3"
  float value = 0;
};

struct HookCheck {
  std::string hook;
  int64_t nan = 0, inf = 0;
};

struct Diagnosis {
  std::vector<int32_t> tokens;
  int64_t hooks_checked = 0;
  std::vector<HookCheck> nonfinite_hooks;  // every hook holding a NaN/Inf, in forward order
  std::optional<NonFiniteValue> first;
  std::vector<ValueSummary> inputs;  // what produced `first`
  bool logits_finite = true;
};

Diagnosis diagnose(HookedModel& model, std::span<const int32_t> tokens);

ValueSummary summarize_values(std::string what, std::string where, std::span<const float> v);

nlohmann::json to_json(const Diagnosis& d, const TokenLabeler& label = id_label);

}  // namespace gb::analysis
