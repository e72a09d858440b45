// Hook sites: every place in the forward pass where an activation can be observed or changed.
//
// Names, shapes and semantics follow TransformerLens, so that researchers' habits carry over.
// This table is the single source of the names: the forward passes, the name filters,
// `glassbox hooks` and the documentation all read it.
//
// Encoder-decoder models (torch.nn.Transformer) use the block names under encoder.blocks.{L}.
// and decoder.blocks.{L}., and encoder.ln_final.* / decoder.ln_final.* for the final norms; a
// decoder block has cross-attention (hook_resid_cross_pre ... hook_cross_attn_out) between its
// self-attention and its MLP. Their norms are named after the sublayer they belong to: ln1 is
// self-attention's (PyTorch's norm1), ln_cross cross-attention's (the decoder's norm2), ln2 the
// MLP's (the encoder's norm2, the decoder's norm3). The resid hooks are always the results of
// the residual additions (resid_pre: the block's input):
//   pre-LN (norm_first=True), as GPT-2:
//     resid_mid  = resid_pre + attn(ln1(resid_pre))
//     resid_post = resid_mid + mlp(ln2(resid_mid))            the block's output
//   post-LN (PyTorch's default), the norm comes after each addition:
//     resid_mid  = resid_pre + attn(resid_pre)                 ln1 normalizes resid_mid;
//     resid_post = h + mlp(h),  h = ln1(resid_mid)             h is what the MLP reads and adds to
//     the block's output (the next block's resid_pre) is ln2(resid_post).
//   The decoder inserts, between the two, hook_resid_cross_pre (the sum after self-attention,
//   normalized by ln1 in post-LN) and the cross-attention sublayer, whose sum is hook_resid_mid
//   (normalized by ln_cross in post-LN).
// ln.hook_normalized is the norm's output before its weight and bias, as everywhere.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace gb {

enum class HookSite : uint8_t {
  // Model level (decoder-only models), outside the blocks.
  Embed,              // hook_embed                      [b, pos, d_model]
  PosEmbed,           // hook_pos_embed                  [b, pos, d_model] (learned positions only)
  LnFinalScale,       // ln_final.hook_scale             [b, pos, 1]
  LnFinalNormalized,  // ln_final.hook_normalized        [b, pos, d_model]
  Logits,             // hook_logits                     [b, pos, d_vocab]
  // Block level: blocks.{L}.<name>
  ResidPre,       // hook_resid_pre                  [b, pos, d_model]
  Ln1Scale,       // ln1.hook_scale                  [b, pos, 1]
  Ln1Normalized,  // ln1.hook_normalized             [b, pos, d_model]
  Q,              // attn.hook_q                     [b, pos, n_heads, d_head]
  K,              // attn.hook_k                     [b, pos, n_kv_heads, d_head]
  V,              // attn.hook_v                     [b, pos, n_kv_heads, d_head]
  RotQ,           // attn.hook_rot_q                 [b, pos, n_heads, d_head]
  RotK,           // attn.hook_rot_k                 [b, pos, n_kv_heads, d_head]
  AttnScores,     // attn.hook_attn_scores           [b, n_heads, q_pos, k_pos]
  Pattern,        // attn.hook_pattern               [b, n_heads, q_pos, k_pos]
  Z,              // attn.hook_z                     [b, pos, n_heads, d_head]
  Result,         // attn.hook_result                [b, pos, n_heads, d_model]
  AttnOut,        // hook_attn_out                   [b, pos, d_model]
  ResidMid,       // hook_resid_mid                  [b, pos, d_model]
  Ln2Scale,       // ln2.hook_scale                  [b, pos, 1]
  Ln2Normalized,  // ln2.hook_normalized             [b, pos, d_model]
  MlpPre,         // mlp.hook_pre                    [b, pos, d_mlp]
  MlpPreLinear,   // mlp.hook_pre_linear             [b, pos, d_mlp] (gated MLPs only)
  MlpPost,        // mlp.hook_post                   [b, pos, d_mlp]
  MlpOut,         // hook_mlp_out                    [b, pos, d_model]
  ResidPost,      // hook_resid_post                 [b, pos, d_model]
  // Encoder-decoder decoders only (decoder.blocks.{L}.): cross-attention between the self-attention
  // and the MLP. The other block names are reused under encoder./decoder. prefixes.
  ResidCrossPre,      // hook_resid_cross_pre            [b, tgt_pos, d_model] (enters cross-attn)
  LnCrossScale,       // ln_cross.hook_scale             [b, tgt_pos, 1]
  LnCrossNormalized,  // ln_cross.hook_normalized        [b, tgt_pos, d_model]
  CrossQ,             // cross_attn.hook_q               [b, tgt_pos, n_heads, d_head]
  CrossK,             // cross_attn.hook_k               [b, src_pos, n_heads, d_head]
  CrossV,             // cross_attn.hook_v               [b, src_pos, n_heads, d_head]
  CrossScores,        // cross_attn.hook_attn_scores     [b, n_heads, tgt_pos, src_pos]
  CrossPattern,       // cross_attn.hook_pattern         [b, n_heads, tgt_pos, src_pos]
  CrossZ,             // cross_attn.hook_z               [b, tgt_pos, n_heads, d_head]
  CrossResult,        // cross_attn.hook_result          [b, tgt_pos, n_heads, d_model]
  CrossOut,           // hook_cross_attn_out             [b, tgt_pos, d_model]
  Count,
};

inline constexpr int kHookSiteCount = int(HookSite::Count);

// Which stack of layers a hook point belongs to. Decoder-only models use Main.
enum class Stack : uint8_t { Main, Encoder, Decoder };

// The symbolic axes a hook's tensor has (resolved against a ModelConfig by the observer).
enum class Axis : uint8_t {
  Batch,
  Pos,
  QPos,
  KPos,
  SrcPos,
  DModel,
  NHeads,
  NKvHeads,
  DHead,
  DMlp,
  DVocab,
  One
};

struct HookSiteInfo {
  HookSite site;
  std::string_view name;  // "attn.hook_pattern" (block level) or "hook_embed" (model level)
  bool block_level;       // lives under blocks.{L}.
  Axis axes[4];
  int rank;
  std::string_view doc;  // one line for `glassbox hooks` and the docs
};

// The whole table, in forward-pass order.
std::span<const HookSiteInfo> hook_site_table();
const HookSiteInfo& hook_site_info(HookSite site);
std::string_view axis_name(Axis a);

// The full TransformerLens-style name of a hook point: "blocks.3.attn.hook_z", "hook_logits",
// "decoder.blocks.0.cross_attn.hook_pattern".
std::string hook_name(Stack stack, int layer, HookSite site);

}  // namespace gb
