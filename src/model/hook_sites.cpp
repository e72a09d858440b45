#include "model/hook_sites.h"

#include "core/error.h"

namespace gb {
namespace {

using A = Axis;
using S = HookSite;

// In forward-pass order. Shapes use TransformerLens's axis names.
constexpr HookSiteInfo kTable[] = {
    {S::Embed, "hook_embed", false, {A::Batch, A::Pos, A::DModel}, 3, "token embeddings"},
    {S::PosEmbed,
     "hook_pos_embed",
     false,
     {A::Batch, A::Pos, A::DModel},
     3,
     "learned position embeddings (GPT-2 family)"},
    {S::ResidPre,
     "hook_resid_pre",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "residual stream entering the block"},
    {S::Ln1Scale,
     "ln1.hook_scale",
     true,
     {A::Batch, A::Pos, A::One},
     3,
     "self-attention's norm (post-LN: applied after the residual addition): "
     "sqrt(variance + eps) (LayerNorm) or sqrt(mean square + eps) (RMSNorm)"},
    {S::Ln1Normalized,
     "ln1.hook_normalized",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "self-attention's norm output before its weight and bias"},
    {S::Q, "attn.hook_q", true, {A::Batch, A::Pos, A::NHeads, A::DHead}, 4, "queries, before RoPE"},
    {S::K,
     "attn.hook_k",
     true,
     {A::Batch, A::Pos, A::NKvHeads, A::DHead},
     4,
     "keys of the new positions, before RoPE (key/value heads under GQA)"},
    {S::V,
     "attn.hook_v",
     true,
     {A::Batch, A::Pos, A::NKvHeads, A::DHead},
     4,
     "values of the new positions"},
    {S::RotQ,
     "attn.hook_rot_q",
     true,
     {A::Batch, A::Pos, A::NHeads, A::DHead},
     4,
     "queries after RoPE (rotate-half order for every file format)"},
    {S::RotK,
     "attn.hook_rot_k",
     true,
     {A::Batch, A::Pos, A::NKvHeads, A::DHead},
     4,
     "keys after RoPE"},
    {S::AttnScores,
     "attn.hook_attn_scores",
     true,
     {A::Batch, A::NHeads, A::QPos, A::KPos},
     4,
     "QKᵀ/√d_head plus the mask (-inf where masked: causal, padding), before softmax"},
    {S::Pattern,
     "attn.hook_pattern",
     true,
     {A::Batch, A::NHeads, A::QPos, A::KPos},
     4,
     "attention weights softmax(QKᵀ/√d_head)"},
    {S::Z,
     "attn.hook_z",
     true,
     {A::Batch, A::Pos, A::NHeads, A::DHead},
     4,
     "pattern @ V per head, before the output projection"},
    {S::Result,
     "attn.hook_result",
     true,
     {A::Batch, A::Pos, A::NHeads, A::DModel},
     4,
     "each head's output z_h @ W_O[h] (sums to attn_out minus the bias); costly, only on request"},
    {S::AttnOut, "hook_attn_out", true, {A::Batch, A::Pos, A::DModel}, 3, "attention layer output"},
    {S::ResidCrossPre,
     "hook_resid_cross_pre",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "encoder-decoder decoders: residual sum after self-attention (post-LN: before ln1)"},
    {S::LnCrossScale,
     "ln_cross.hook_scale",
     true,
     {A::Batch, A::Pos, A::One},
     3,
     "encoder-decoder decoders: cross-attention's norm scale"},
    {S::LnCrossNormalized,
     "ln_cross.hook_normalized",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "encoder-decoder decoders: cross-attention's norm output before weight and bias"},
    {S::CrossQ,
     "cross_attn.hook_q",
     true,
     {A::Batch, A::Pos, A::NHeads, A::DHead},
     4,
     "cross-attention queries (from the decoder)"},
    {S::CrossK,
     "cross_attn.hook_k",
     true,
     {A::Batch, A::SrcPos, A::NHeads, A::DHead},
     4,
     "cross-attention keys (from the encoder output)"},
    {S::CrossV,
     "cross_attn.hook_v",
     true,
     {A::Batch, A::SrcPos, A::NHeads, A::DHead},
     4,
     "cross-attention values (from the encoder output)"},
    {S::CrossScores,
     "cross_attn.hook_attn_scores",
     true,
     {A::Batch, A::NHeads, A::QPos, A::SrcPos},
     4,
     "cross-attention QKᵀ/√d_head plus the mask (-inf where masked), before softmax"},
    {S::CrossPattern,
     "cross_attn.hook_pattern",
     true,
     {A::Batch, A::NHeads, A::QPos, A::SrcPos},
     4,
     "cross-attention weights"},
    {S::CrossZ,
     "cross_attn.hook_z",
     true,
     {A::Batch, A::Pos, A::NHeads, A::DHead},
     4,
     "cross-attention pattern @ V per head"},
    {S::CrossResult,
     "cross_attn.hook_result",
     true,
     {A::Batch, A::Pos, A::NHeads, A::DModel},
     4,
     "each cross-attention head's output z_h @ W_O[h]; costly, only on request"},
    {S::CrossOut,
     "hook_cross_attn_out",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "cross-attention layer output"},
    {S::ResidMid,
     "hook_resid_mid",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "residual stream after attention (post-LN: the sum before its norm)"},
    {S::Ln2Scale, "ln2.hook_scale", true, {A::Batch, A::Pos, A::One}, 3, "MLP's norm scale"},
    {S::Ln2Normalized,
     "ln2.hook_normalized",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "MLP's norm output before its weight and bias"},
    {S::MlpPre,
     "mlp.hook_pre",
     true,
     {A::Batch, A::Pos, A::DMlp},
     3,
     "MLP pre-activation (the gate projection in gated MLPs)"},
    {S::MlpPreLinear,
     "mlp.hook_pre_linear",
     true,
     {A::Batch, A::Pos, A::DMlp},
     3,
     "gated MLPs: the up projection that multiplies the activation"},
    {S::MlpPost,
     "mlp.hook_post",
     true,
     {A::Batch, A::Pos, A::DMlp},
     3,
     "MLP hidden activation (act(pre), times pre_linear in gated MLPs)"},
    {S::MlpOut, "hook_mlp_out", true, {A::Batch, A::Pos, A::DModel}, 3, "MLP output"},
    {S::ResidPost,
     "hook_resid_post",
     true,
     {A::Batch, A::Pos, A::DModel},
     3,
     "residual stream leaving the block (post-LN: the sum before ln2, whose output leaves)"},
    {S::LnFinalScale,
     "ln_final.hook_scale",
     false,
     {A::Batch, A::Pos, A::One},
     3,
     "final norm scale"},
    {S::LnFinalNormalized,
     "ln_final.hook_normalized",
     false,
     {A::Batch, A::Pos, A::DModel},
     3,
     "final norm output before its weight and bias"},
    {S::Logits, "hook_logits", false, {A::Batch, A::Pos, A::DVocab}, 3, "output logits"},
};
static_assert(std::size(kTable) == size_t(kHookSiteCount));

constexpr bool table_covers_every_site() {
  bool seen[kHookSiteCount] = {};
  for (const auto& info : kTable) seen[int(info.site)] = true;
  for (bool s : seen)
    if (!s) return false;
  return true;
}
static_assert(table_covers_every_site());

}  // namespace

std::span<const HookSiteInfo> hook_site_table() {
  return kTable;
}

const HookSiteInfo& hook_site_info(HookSite site) {
  for (const auto& info : kTable)
    if (info.site == site) return info;
  fail("unknown hook site ", int(site));
}

std::string_view axis_name(Axis a) {
  switch (a) {
    case Axis::Batch:
      return "batch";
    case Axis::Pos:
      return "pos";
    case Axis::QPos:
      return "q_pos";
    case Axis::KPos:
      return "k_pos";
    case Axis::SrcPos:
      return "src_pos";
    case Axis::DModel:
      return "d_model";
    case Axis::NHeads:
      return "n_heads";
    case Axis::NKvHeads:
      return "n_kv_heads";
    case Axis::DHead:
      return "d_head";
    case Axis::DMlp:
      return "d_mlp";
    case Axis::DVocab:
      return "d_vocab";
    case Axis::One:
      return "1";
  }
  return "?";
}

std::string hook_name(Stack stack, int layer, HookSite site) {
  const HookSiteInfo& info = hook_site_info(site);
  std::string prefix = stack == Stack::Encoder   ? "encoder."
                       : stack == Stack::Decoder ? "decoder."
                                                 : "";
  if (info.block_level) prefix += "blocks." + std::to_string(layer) + ".";
  return prefix + std::string(info.name);
}

}  // namespace gb
