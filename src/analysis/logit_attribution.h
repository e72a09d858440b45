// Direct logit attribution: how much each part of the model writes, directly, into one logit
// (or a logit difference) at one position.
//
// The residual stream before the final norm is a sum of parts:
//   resid = embed (+ pos_embed) + Σ_layers (Σ_heads result_h + b_O) + Σ_layers mlp_out
// The final norm is linear once its scale is frozen at the value the run gave it
// (ln_final.hook_scale), so the logit of token t splits exactly:
//   logit_t = Σ_parts centre(part) · (w ⊙ u) / scale  +  b · u
// with u = W_U[t] (or W_U[t] − W_U[c] for a difference), w, b the final norm's weight and bias,
// and centre() removing the part's mean for LayerNorm (identity for RMSNorm). Heads (from
// attn.hook_result), MLPs (hook_mlp_out, their bias included) and the embeddings are the
// components; the attention output biases b_O (hook_attn_out − Σ_h hook_result) and the final
// norm's bias term are reported separately. Components + terms = the logit the model computed.
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

struct AttributionOptions {
  int64_t position = -1;            // negative: from the end
  int32_t target = -1;              // the token whose logit is explained
  std::optional<int32_t> contrast;  // explain logit[target] − logit[contrast]
};

enum class PartKind { Embed, PosEmbed, Head, Mlp, AttnBias, NormBias };

struct Part {
  std::string name;  // "hook_embed", "L3H5", "L3 mlp", "L3 attn bias", "ln_final bias"
  PartKind kind = PartKind::Embed;
  int layer = -1;
  int head = -1;
  double value = 0;     // contribution to the logit (difference)
  double centring = 0;  // what LayerNorm's centring removed from this part (0 for RMSNorm)
};

struct Attribution {
  std::vector<int32_t> tokens;
  int64_t position = 0;  // absolute
  int32_t target = -1;
  std::optional<int32_t> contrast;
  double actual = 0;             // the model's logit (difference) at `position`
  double norm_scale = 0;         // ln_final.hook_scale at `position`, frozen
  bool centred = false;          // LayerNorm (true) or RMSNorm (false)
  std::vector<Part> components;  // embeddings, every head, every MLP
  std::vector<Part> terms;       // attention output biases, final norm bias

  double total() const;  // Σ components + Σ terms (equals `actual` up to rounding)
};

std::string part_kind_name(PartKind k);

Attribution attribute_logit(HookedModel& model, std::span<const int32_t> tokens,
                            const AttributionOptions& o);

nlohmann::json to_json(const Attribution& a, const TokenLabeler& label = id_label);

}  // namespace gb::analysis
