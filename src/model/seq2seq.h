// The encoder-decoder torch.nn.Transformer, run natively: a folder written by
// tools/export_torch_transformer.py (config.json + model.safetensors under PyTorch's names),
// float inputs in, float outputs out, as the module's forward(src, tgt, masks...).
//
//   gb::HookedModel hm(gb::load_model("transformer_dir"));
//   auto& s2s = dynamic_cast<gb::Seq2SeqModel&>(hm.model());
//   auto plan = hm.plan("*.blocks.0.*attn.hook_pattern,encoder.blocks.0.mlp.hook_post");
//   gb::ActivationCache cache(plan);
//   gb::Tensor out = s2s.forward({.src = {src, "src"}, .tgt = {tgt, "tgt"}, .tgt_causal = true},
//                                gb::Hooks(plan->mask(), cache));
//   cache["decoder.blocks.0.cross_attn.hook_pattern"];  // [batch, n_heads, tgt_len, src_len]
//
// Hook names are encoder.blocks.{L}.*, decoder.blocks.{L}.* (with cross_attn.*) and
// encoder.ln_final.* / decoder.ln_final.*; model/hook_sites.h says what resid_mid, ln1 and ln2
// mean in post-LN layers.
#pragma once

#include <string>

#include "core/tensor.h"
#include "model/model.h"

namespace gb {

// One input array and how errors name it (its file, or its role such as "src").
struct InputArray {
  Tensor values;  // rank 0 (default): not given
  std::string name;

  bool given() const { return values.shape().rank > 0; }
};

// The arguments of nn.Transformer.forward. Masks are additive, like PyTorch's float masks:
// 0 keeps a key, −inf blocks it (convert boolean masks to −inf where True).
struct Seq2SeqInputs {
  InputArray src;  // [src_len, batch, d_model], or [batch, src_len, d_model] when batch_first
  InputArray tgt;  // [tgt_len, batch, d_model], or [batch, tgt_len, d_model] when batch_first
  bool batch_first = false;
  bool tgt_causal = false;        // decoder self-attention: target position i sees positions ≤ i
  InputArray src_mask;            // [src_len, src_len]  encoder self-attention, optional
  InputArray tgt_mask;            // [tgt_len, tgt_len]  decoder self-attention, optional
  InputArray memory_mask;         // [tgt_len, src_len]  cross-attention, optional
  InputArray src_key_padding;     // [batch, src_len]  per key, encoder self-attention, optional
  InputArray tgt_key_padding;     // [batch, tgt_len]  per key, decoder self-attention, optional
  InputArray memory_key_padding;  // [batch, src_len]  per key, cross-attention, optional
};

class Seq2SeqModel : public Model {
 public:
  using Model::Model;

  // The decoder's output, in the inputs' layout: [tgt_len, batch, d_model] (or batch-first).
  // Throws gb::Error naming the input whose shape does not fit.
  virtual Tensor forward(const Seq2SeqInputs& inputs, const Hooks& hooks = {}) = 0;
  // Checks every given array's shape against the model and each other.
  void check_inputs(const Seq2SeqInputs& inputs) const;

  // Token ids mean nothing to this model: throws gb::UsageError.
  void forward(const TokenBatch& tokens, KvCache& cache, const Hooks& hooks, Tensor& logits,
               const ForwardOptions& options) override;
};

}  // namespace gb
