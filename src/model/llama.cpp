// The Llama family: RMSNorm, RoPE, grouped-query attention, SwiGLU MLP. Also Mistral and Qwen2
// (q/k/v biases).
#include <string>
#include <vector>

#include "model/blocks.h"
#include "model/families.h"
#include "model/weight_binder.h"

namespace gb {
namespace {

struct LlamaLayer {
  NormWeights attn_norm;  // RMSNorm before attention
  AttentionWeights attn;
  NormWeights mlp_norm;  // RMSNorm before the MLP
  MlpWeights mlp;        // gate, up, down
};

class LlamaModel : public Model {
 public:
  explicit LlamaModel(ModelSource src, int threads)
      : Model(std::move(src), threads), rope_(config_.rope_dims, config_.rope_theta) {
    bind();
  }

  bool has_site(HookSite site) const override {
    if (site == HookSite::PosEmbed) return false;
    return site < HookSite::ResidCrossPre || site > HookSite::CrossOut;
  }

  const NormWeights& final_norm() const override { return final_norm_; }
  const WeightMatrix& unembedding() const override { return unembed_; }

  void forward(const TokenBatch& tokens, KvCache& cache, const Hooks& hooks, Tensor& logits,
               const ForwardOptions& options) override {
    check_batch(tokens, cache);
    const Step s{.config = config_,
                 .hooks = hooks,
                 .pool = *pool_,
                 .cache = cache,
                 .act = act_,
                 .batch = tokens.batch,
                 .n_pos = tokens.n_pos,
                 .pos0 = cache.n_pos(),
                 .lengths = tokens.lengths};
    act_.prepare(config_, s.rows(), s.batch, cache.bytes_of(tokens.n_pos));
    embed_tokens(s, embed_, tokens.ids, act_.resid.data());
    s.hook(HookSite::Embed, -1, act_.resid, s.shape(config_.d_model));
    for (int layer = 0; layer < config_.n_layers; ++layer) block(s, layer);
    unembed_block(s, final_norm_, unembed_, options.all_logits, logits);
    cache.advance(tokens.n_pos);
  }

 private:
  // One transformer block: pre-norm attention and pre-norm gated MLP, each added to the residual.
  void block(const Step& s, int layer) {
    const LlamaLayer& w = layers_[size_t(layer)];
    s.hook(HookSite::ResidPre, layer, act_.resid, s.shape(config_.d_model));
    norm_block(s, w.attn_norm, act_.resid.data(), act_.normed.data(), layer,
               {HookSite::Ln1Scale, HookSite::Ln1Normalized});
    self_attention_block(s, w.attn, &rope_, config_.rope_interleaved, layer);
    add_residual(s, act_.attn_out, HookSite::ResidMid, layer);
    norm_block(s, w.mlp_norm, act_.resid.data(), act_.normed.data(), layer,
               {HookSite::Ln2Scale, HookSite::Ln2Normalized});
    mlp_block(s, w.mlp, layer);
    add_residual(s, act_.mlp_out, HookSite::ResidPost, layer);
  }

  // Weights under llama.cpp's GGUF names (Hugging Face names are mapped at load).
  void bind() {
    const ModelConfig& c = config_;
    const WeightBinder wb(tensors_, path_,
                          [this](size_t k) -> std::vector<float>& { return own(k); });
    const int64_t d = c.d_model, dq = int64_t(c.n_heads) * c.d_head,
                  dkv = int64_t(c.n_kv_heads) * c.d_head;
    embed_ = wb.matrix("token_embd.weight", c.d_vocab, d);
    unembed_ = wb.has("output.weight") ? wb.matrix("output.weight", c.d_vocab, d) : embed_;
    config_.tied_embeddings = !wb.has("output.weight");
    final_norm_ = rms(wb.vector("output_norm.weight", d));
    for (int L = 0; L < c.n_layers; ++L) {
      const std::string p = "blk." + std::to_string(L) + ".";
      LlamaLayer l;
      l.attn_norm = rms(wb.vector(p + "attn_norm.weight", d));
      l.attn = {.w_q = wb.matrix(p + "attn_q.weight", dq, d),
                .w_k = wb.matrix(p + "attn_k.weight", dkv, d),
                .w_v = wb.matrix(p + "attn_v.weight", dkv, d),
                .w_o = wb.matrix(p + "attn_output.weight", d, dq),
                .b_q = wb.optional_vector(p + "attn_q.bias", dq),
                .b_k = wb.optional_vector(p + "attn_k.bias", dkv),
                .b_v = wb.optional_vector(p + "attn_v.bias", dkv),
                .b_o = wb.optional_vector(p + "attn_output.bias", d)};
      l.mlp_norm = rms(wb.vector(p + "ffn_norm.weight", d));
      l.mlp = {.w_in = wb.matrix(p + "ffn_gate.weight", c.d_mlp, d),
               .w_up = wb.matrix(p + "ffn_up.weight", c.d_mlp, d),
               .w_out = wb.matrix(p + "ffn_down.weight", d, c.d_mlp),
               .b_in = {},
               .b_out = {},
               .act = Activation::Silu};
      layers_.push_back(l);
    }
    config_.qkv_bias = !layers_[0].attn.b_q.empty();
  }

  NormWeights rms(std::span<const float> w) const {
    return {.kind = ops::NormKind::RmsNorm, .w = w, .b = {}, .eps = config_.norm_eps};
  }

  WeightMatrix embed_;    // [d_vocab, d_model]
  WeightMatrix unembed_;  // [d_vocab, d_model] (== embed_ when tied)
  NormWeights final_norm_;
  std::vector<LlamaLayer> layers_;
  ops::Rope rope_;
  Activations act_;
};

}  // namespace

std::unique_ptr<Model> make_llama(ModelSource source, int threads) {
  return std::make_unique<LlamaModel>(std::move(source), threads);
}

}  // namespace gb
