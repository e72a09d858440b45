// The GPT-2 family: learned positions, LayerNorm with bias, fused qkv, GELU MLP, tied
// unembedding.
#include <string>
#include <vector>

#include "model/blocks.h"
#include "model/families.h"
#include "model/weight_binder.h"
#include "ops/matmul.h"
#include "ops/vec.h"

namespace gb {
namespace {

struct Gpt2Layer {
  NormWeights ln1;        // LayerNorm before attention
  AttentionWeights attn;  // q, k, v: row slices of the fused qkv weight
  NormWeights ln2;        // LayerNorm before the MLP
  MlpWeights mlp;         // fc (d_model -> d_mlp), GELU, proj (d_mlp -> d_model)
};

class Gpt2Model : public Model {
 public:
  Gpt2Model(ModelSource src, int threads) : Model(std::move(src), threads) { bind(); }

  bool has_site(HookSite site) const override {
    if (site == HookSite::RotQ || site == HookSite::RotK || site == HookSite::MlpPreLinear)
      return false;
    return site < HookSite::ResidCrossPre || site > HookSite::CrossOut;
  }

  const NormWeights& final_norm() const override { return final_norm_; }
  const WeightMatrix& unembedding() const override { return wte_; }

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
    embed(s, tokens);
    for (int layer = 0; layer < config_.n_layers; ++layer) block(s, layer);
    unembed_block(s, final_norm_, wte_, options.all_logits, logits);
    cache.advance(tokens.n_pos);
  }

 private:
  // resid = W_E[token] + W_pos[position]
  void embed(const Step& s, const TokenBatch& tokens) {
    const int64_t d = config_.d_model, n = s.rows() * d;
    act_.prepare(config_, s.rows(), s.batch, s.cache.bytes_of(tokens.n_pos));
    embed_tokens(s, wte_, tokens.ids, act_.embed.data());
    s.hook(HookSite::Embed, -1, act_.embed, s.shape(d));
    for (int b = 0; b < s.batch; ++b)
      for (int64_t p = 0; p < s.n_pos; ++p)
        ops::weight_row(wpe_, s.pos0 + p, act_.pos_embed.data() + (b * s.n_pos + p) * d);
    s.hook(HookSite::PosEmbed, -1, act_.pos_embed, s.shape(d));
    for (int64_t i = 0; i < n; ++i)
      act_.resid[size_t(i)] = act_.embed[size_t(i)] + act_.pos_embed[size_t(i)];
  }

  // One block: pre-LayerNorm attention and pre-LayerNorm GELU MLP, each added to the residual.
  void block(const Step& s, int layer) {
    const Gpt2Layer& w = layers_[size_t(layer)];
    s.hook(HookSite::ResidPre, layer, act_.resid, s.shape(config_.d_model));
    norm_block(s, w.ln1, act_.resid.data(), act_.normed.data(), layer,
               {HookSite::Ln1Scale, HookSite::Ln1Normalized});
    self_attention_block(s, w.attn, nullptr, false, layer);
    add_residual(s, act_.attn_out, HookSite::ResidMid, layer);
    norm_block(s, w.ln2, act_.resid.data(), act_.normed.data(), layer,
               {HookSite::Ln2Scale, HookSite::Ln2Normalized});
    mlp_block(s, w.mlp, layer);
    add_residual(s, act_.mlp_out, HookSite::ResidPost, layer);
  }

  WeightBinder binder() {
    return WeightBinder(tensors_, path_,
                        [this](size_t k) -> std::vector<float>& { return own(k); });
  }

  NormWeights layer_norm(const WeightBinder& wb, const std::string& name) const {
    return bind_layer_norm(wb, name, config_.d_model, config_.norm_eps);
  }

  // The fused qkv weight [3·d_model, d_model] and bias split into q, k, v.
  void split_qkv(AttentionWeights& a, const WeightMatrix& qkv, std::span<const float> bias) const {
    const int64_t d = config_.d_model;
    a.w_q = qkv.row_slice(0, d);
    a.w_k = qkv.row_slice(d, d);
    a.w_v = qkv.row_slice(2 * d, d);
    a.b_q = bias.subspan(0, size_t(d));
    a.b_k = bias.subspan(size_t(d), size_t(d));
    a.b_v = bias.subspan(size_t(2 * d), size_t(d));
  }

  // Weights under llama.cpp's GGUF names (Hugging Face names are mapped at load).
  void bind() {
    const ModelConfig& c = config_;
    const WeightBinder wb = binder();
    const int64_t d = c.d_model;
    wte_ = wb.matrix("token_embd.weight", c.d_vocab, d);
    wpe_ = wb.matrix("position_embd.weight", c.n_ctx, d);
    final_norm_ = layer_norm(wb, "output_norm");
    for (int L = 0; L < c.n_layers; ++L) {
      const std::string p = "blk." + std::to_string(L) + ".";
      Gpt2Layer l;
      l.ln1 = layer_norm(wb, p + "attn_norm");
      split_qkv(l.attn, wb.matrix(p + "attn_qkv.weight", 3 * d, d),
                wb.vector(p + "attn_qkv.bias", 3 * d));
      l.attn.w_o = wb.matrix(p + "attn_output.weight", d, d);
      l.attn.b_o = wb.vector(p + "attn_output.bias", d);
      l.ln2 = layer_norm(wb, p + "ffn_norm");
      l.mlp = {.w_in = wb.matrix(p + "ffn_up.weight", c.d_mlp, d),
               .w_up = {},
               .w_out = wb.matrix(p + "ffn_down.weight", d, c.d_mlp),
               .b_in = wb.vector(p + "ffn_up.bias", c.d_mlp),
               .b_out = wb.vector(p + "ffn_down.bias", d),
               .act = c.act};
      layers_.push_back(l);
    }
  }

  WeightMatrix wte_;  // [d_vocab, d_model] token embedding, also the unembedding
  WeightMatrix wpe_;  // [n_ctx, d_model] learned positions
  NormWeights final_norm_;
  std::vector<Gpt2Layer> layers_;
  Activations act_;
};

}  // namespace

std::unique_ptr<Model> make_gpt2(ModelSource source, int threads) {
  return std::make_unique<Gpt2Model>(std::move(source), threads);
}

}  // namespace gb
