// torch.nn.Transformer: an encoder of self-attention + MLP blocks, a decoder of self-attention +
// cross-attention + MLP blocks, LayerNorm after each residual addition (post-LN, the default) or
// before each sublayer (norm_first), ReLU or GELU, optional final encoder/decoder LayerNorms.
// Weights are bound under PyTorch's own parameter names.
#include "model/seq2seq.h"

#include <cstring>
#include <string>
#include <vector>

#include "core/error.h"
#include "model/blocks.h"
#include "model/encdec_blocks.h"
#include "model/families.h"
#include "model/weight_binder.h"

namespace gb {
namespace {

constexpr NormSites kLn1{HookSite::Ln1Scale, HookSite::Ln1Normalized};
constexpr NormSites kLnCross{HookSite::LnCrossScale, HookSite::LnCrossNormalized};
constexpr NormSites kLn2{HookSite::Ln2Scale, HookSite::Ln2Normalized};
constexpr NormSites kLnFinal{HookSite::LnFinalScale, HookSite::LnFinalNormalized};

// nn.TransformerEncoderLayer
struct EncoderLayer {
  AttentionWeights self_attn;  // q, k, v: row slices of in_proj_weight [3·d_model, d_model]
  NormWeights ln1;             // norm1
  MlpWeights mlp;              // linear1 [d_mlp, d_model], activation, linear2 [d_model, d_mlp]
  NormWeights ln2;             // norm2
};

// nn.TransformerDecoderLayer
struct DecoderLayer {
  AttentionWeights self_attn;   // self_attn
  NormWeights ln1;              // norm1
  AttentionWeights cross_attn;  // multihead_attn: queries from the decoder, keys/values from memory
  NormWeights ln_cross;         // norm2
  MlpWeights mlp;               // linear1, activation, linear2
  NormWeights ln2;              // norm3
};

bool is_cross_attention_site(HookSite site) {
  switch (site) {
    case HookSite::ResidCrossPre:
    case HookSite::LnCrossScale:
    case HookSite::LnCrossNormalized:
    case HookSite::CrossQ:
    case HookSite::CrossK:
    case HookSite::CrossV:
    case HookSite::CrossScores:
    case HookSite::CrossPattern:
    case HookSite::CrossZ:
    case HookSite::CrossResult:
    case HookSite::CrossOut:
      return true;
    default:
      return false;
  }
}

// x [seq, batch, d] (or [batch, seq, d] when batch_first) -> out [batch, seq, d].
void to_batch_major(const Tensor& x, bool batch_first, AlignedFloats& out) {
  const Shape& s = x.shape();
  out.assign(x.values().begin(), x.values().end());
  if (batch_first) return;
  const int64_t seq = s[0], batch = s[1], d = s[2];
  for (int64_t p = 0; p < seq; ++p)
    for (int64_t b = 0; b < batch; ++b)
      std::memcpy(out.data() + (b * seq + p) * d, x.data() + (p * batch + b) * d,
                  size_t(d) * sizeof(float));
}

// rows [batch, seq, d] -> a tensor in the inputs' layout.
Tensor from_batch_major(const AlignedFloats& rows, int64_t batch, int64_t seq, int64_t d,
                        bool batch_first) {
  if (batch_first)
    return Tensor(Shape{batch, seq, d}, {rows.begin(), rows.begin() + batch * seq * d});
  Tensor out(Shape{seq, batch, d});
  for (int64_t p = 0; p < seq; ++p)
    for (int64_t b = 0; b < batch; ++b)
      std::memcpy(out.data() + (p * batch + b) * d, rows.data() + (b * seq + p) * d,
                  size_t(d) * sizeof(float));
  return out;
}

const float* data_or_null(const InputArray& a) {
  return a.given() ? a.values.data() : nullptr;
}

class TorchTransformer final : public Seq2SeqModel {
 public:
  TorchTransformer(ModelSource src, int threads) : Seq2SeqModel(std::move(src), threads) { bind(); }

  std::vector<StackDepth> stacks() const override {
    return {{Stack::Encoder, config_.n_encoder_layers}, {Stack::Decoder, config_.n_layers}};
  }

  bool has_site(HookSite site) const override {
    return has_site_in(Stack::Encoder, site) || has_site_in(Stack::Decoder, site);
  }

  bool has_site_in(Stack stack, HookSite site) const override {
    switch (site) {
      case HookSite::Embed:  // inputs arrive embedded
      case HookSite::PosEmbed:
      case HookSite::RotQ:
      case HookSite::RotK:
      case HookSite::MlpPreLinear:
      case HookSite::Logits:
        return false;
      case HookSite::LnFinalScale:
      case HookSite::LnFinalNormalized:
        return (stack == Stack::Encoder && config_.encoder_final_norm) ||
               (stack == Stack::Decoder && config_.decoder_final_norm);
      default:
        break;
    }
    if (stack == Stack::Main) return false;
    return stack == Stack::Decoder || !is_cross_attention_site(site);
  }

  // For analyses through the unembedding (logit lens, ...), which this model does not have.
  const NormWeights& final_norm() const override {
    if (!config_.decoder_final_norm) usage_fail(path_, ": the decoder has no final norm");
    return decoder_norm_;
  }
  const WeightMatrix& unembedding() const override {
    usage_fail(path_, ": a torch.nn.Transformer has no vocabulary or unembedding");
  }

  Tensor forward(const Seq2SeqInputs& in, const Hooks& hooks) override {
    check_inputs(in);
    const bool bf = in.batch_first;
    const Shape& src = in.src.values.shape();
    const Shape& tgt = in.tgt.values.shape();
    const int batch = int(bf ? src[0] : src[1]);
    const int64_t src_len = bf ? src[1] : src[0], tgt_len = bf ? tgt[1] : tgt[0];
    encode(step(hooks, Stack::Encoder, batch, src_len), in);
    decode(step(hooks, Stack::Decoder, batch, tgt_len), in, src_len);
    return from_batch_major(act_.resid, batch, tgt_len, config_.d_model, bf);
  }

 private:
  Step step(const Hooks& hooks, Stack stack, int batch, int64_t n_pos) {
    return {.config = config_,
            .hooks = hooks,
            .pool = *pool_,
            .cache = no_cache_,
            .act = act_,
            .batch = batch,
            .n_pos = n_pos,
            .pos0 = 0,
            .stack = stack};
  }

  // src -> memory_, the encoder's output.
  void encode(const Step& s, const Seq2SeqInputs& in) {
    const AttentionMask mask{.causal = false,
                             .mask = data_or_null(in.src_mask),
                             .padding = data_or_null(in.src_key_padding)};
    load_stream(in.src.values, in.batch_first);
    for (int layer = 0; layer < config_.n_encoder_layers; ++layer) encoder_block(s, layer, mask);
    if (config_.encoder_final_norm) final_norm(s, encoder_norm_);
    memory_ = act_.resid;
  }

  // tgt, memory_ -> act.resid, the decoder's output.
  void decode(const Step& s, const Seq2SeqInputs& in, int64_t src_len) {
    const AttentionMask self_mask{.causal = in.tgt_causal,
                                  .mask = data_or_null(in.tgt_mask),
                                  .padding = data_or_null(in.tgt_key_padding)};
    const AttentionMask memory_mask{.causal = false,
                                    .mask = data_or_null(in.memory_mask),
                                    .padding = data_or_null(in.memory_key_padding)};
    load_stream(in.tgt.values, in.batch_first);
    for (int layer = 0; layer < config_.n_layers; ++layer)
      decoder_block(s, layer, self_mask, memory_mask, src_len);
    if (config_.decoder_final_norm) final_norm(s, decoder_norm_);
  }

  // The residual stream act.resid [batch, seq, d_model] <- an input in either layout.
  void load_stream(const Tensor& x, bool batch_first) {
    to_batch_major(x, batch_first, act_.resid);
    act_.normed.resize(act_.resid.size());
  }

  // One sublayer f with its residual connection and LayerNorm, in PyTorch's order:
  //   pre-LN:  resid = resid + f(norm(resid))
  //   post-LN: resid = norm(resid + f(resid))      (the norm in place: it is the stream now)
  // f(x) reads x [rows, d_model] and leaves its result in `out`; `sum` is the residual
  // addition's hook.
  template <typename Sublayer>
  void residual_sublayer(const Step& s, const NormWeights& norm, NormSites norm_sites, HookSite sum,
                         const AlignedFloats& out, int layer, Sublayer&& f) {
    float* resid = act_.resid.data();
    if (config_.norm_first) {
      norm_block(s, norm, resid, act_.normed.data(), layer, norm_sites);
      f(act_.normed.data());
      add_residual(s, out, sum, layer);
    } else {
      f(resid);
      add_residual(s, out, sum, layer);
      norm_block(s, norm, resid, resid, layer, norm_sites);
    }
  }

  // x [batch, n_pos, d_model] attends to itself -> act.attn_out.
  void self_attention(const Step& s, const AttentionWeights& w, const float* x,
                      const AttentionMask& mask, int layer) {
    attention_block(s, w, {.x = x, .kv = x, .k_len = s.n_pos}, mask, kSelfAttentionSites, layer);
  }

  // x [batch, tgt_len, d_model] attends to memory_ [batch, src_len, d_model] -> act.attn_out.
  void cross_attention(const Step& s, const AttentionWeights& w, const float* x, int64_t src_len,
                       const AttentionMask& mask, int layer) {
    attention_block(s, w, {.x = x, .kv = memory_.data(), .k_len = src_len}, mask,
                    kCrossAttentionSites, layer);
  }

  // nn.TransformerEncoderLayer: self-attention, then the feed-forward MLP.
  void encoder_block(const Step& s, int layer, const AttentionMask& mask) {
    const EncoderLayer& w = encoder_[size_t(layer)];
    s.hook(HookSite::ResidPre, layer, act_.resid, s.shape(config_.d_model));
    residual_sublayer(s, w.ln1, kLn1, HookSite::ResidMid, act_.attn_out, layer,
                      [&](const float* x) { self_attention(s, w.self_attn, x, mask, layer); });
    residual_sublayer(s, w.ln2, kLn2, HookSite::ResidPost, act_.mlp_out, layer,
                      [&](const float* x) { mlp_block(s, w.mlp, x, layer); });
  }

  // nn.TransformerDecoderLayer: self-attention, cross-attention over the encoder's output, then
  // the feed-forward MLP.
  void decoder_block(const Step& s, int layer, const AttentionMask& self_mask,
                     const AttentionMask& memory_mask, int64_t src_len) {
    const DecoderLayer& w = decoder_[size_t(layer)];
    s.hook(HookSite::ResidPre, layer, act_.resid, s.shape(config_.d_model));
    residual_sublayer(s, w.ln1, kLn1, HookSite::ResidCrossPre, act_.attn_out, layer,
                      [&](const float* x) { self_attention(s, w.self_attn, x, self_mask, layer); });
    residual_sublayer(
        s, w.ln_cross, kLnCross, HookSite::ResidMid, act_.attn_out, layer,
        [&](const float* x) { cross_attention(s, w.cross_attn, x, src_len, memory_mask, layer); });
    residual_sublayer(s, w.ln2, kLn2, HookSite::ResidPost, act_.mlp_out, layer,
                      [&](const float* x) { mlp_block(s, w.mlp, x, layer); });
  }

  // The encoder's or decoder's final LayerNorm, in place on the stream.
  void final_norm(const Step& s, const NormWeights& w) {
    norm_block(s, w, act_.resid.data(), act_.resid.data(), -1, kLnFinal);
  }

  NormWeights layer_norm(const WeightBinder& wb, const std::string& name) const {
    return bind_layer_norm(wb, name, config_.d_model, config_.norm_eps);
  }

  // nn.MultiheadAttention: in_proj_weight [3·d, d] holds W_Q, W_K, W_V as row blocks.
  AttentionWeights attention(const WeightBinder& wb, const std::string& p) const {
    const int64_t d = config_.d_model;
    const WeightMatrix in_proj = wb.matrix(p + ".in_proj_weight", 3 * d, d);
    const std::span<const float> in_bias = wb.vector(p + ".in_proj_bias", 3 * d);
    return {.w_q = in_proj.row_slice(0, d),
            .w_k = in_proj.row_slice(d, d),
            .w_v = in_proj.row_slice(2 * d, d),
            .w_o = wb.matrix(p + ".out_proj.weight", d, d),
            .b_q = in_bias.subspan(0, size_t(d)),
            .b_k = in_bias.subspan(size_t(d), size_t(d)),
            .b_v = in_bias.subspan(size_t(2 * d), size_t(d)),
            .b_o = wb.vector(p + ".out_proj.bias", d)};
  }

  MlpWeights mlp(const WeightBinder& wb, const std::string& p) const {
    const int64_t d = config_.d_model, ff = config_.d_mlp;
    return {.w_in = wb.matrix(p + "linear1.weight", ff, d),
            .w_up = {},
            .w_out = wb.matrix(p + "linear2.weight", d, ff),
            .b_in = wb.vector(p + "linear1.bias", ff),
            .b_out = wb.vector(p + "linear2.bias", d),
            .act = config_.act};
  }

  void bind() {
    const WeightBinder wb(tensors_, path_,
                          [this](size_t n) -> std::vector<float>& { return own(n); });
    for (int L = 0; L < config_.n_encoder_layers; ++L) {
      const std::string p = "encoder.layers." + std::to_string(L) + ".";
      encoder_.push_back({.self_attn = attention(wb, p + "self_attn"),
                          .ln1 = layer_norm(wb, p + "norm1"),
                          .mlp = mlp(wb, p),
                          .ln2 = layer_norm(wb, p + "norm2")});
    }
    for (int L = 0; L < config_.n_layers; ++L) {
      const std::string p = "decoder.layers." + std::to_string(L) + ".";
      decoder_.push_back({.self_attn = attention(wb, p + "self_attn"),
                          .ln1 = layer_norm(wb, p + "norm1"),
                          .cross_attn = attention(wb, p + "multihead_attn"),
                          .ln_cross = layer_norm(wb, p + "norm2"),
                          .mlp = mlp(wb, p),
                          .ln2 = layer_norm(wb, p + "norm3")});
    }
    if (config_.encoder_final_norm) encoder_norm_ = layer_norm(wb, "encoder.norm");
    if (config_.decoder_final_norm) decoder_norm_ = layer_norm(wb, "decoder.norm");
  }

  std::vector<EncoderLayer> encoder_;
  std::vector<DecoderLayer> decoder_;
  NormWeights encoder_norm_, decoder_norm_;  // encoder.norm, decoder.norm (when present)
  Activations act_;
  AlignedFloats memory_;  // [batch, src_len, d_model]  the encoder's output
  KvCache no_cache_;      // attention here sees whole sequences; Step wants a cache
};

}  // namespace

void Seq2SeqModel::check_inputs(const Seq2SeqInputs& in) const {
  const int64_t d = config_.d_model;
  const char* layout = in.batch_first ? "[batch, seq, d_model]" : "[seq, batch, d_model]";
  // (seq, batch) of src or tgt
  auto sequence = [&](const InputArray& a, const char* role) {
    if (!a.given()) usage_fail("no ", role, " input given");
    const Shape& s = a.values.shape();
    if (s.rank != 3 || s[2] != d)
      fail(a.name, ": shape ", s.str(), " does not fit ", layout, " with d_model ", d);
    if (s[0] == 0 || s[1] == 0) fail(a.name, ": shape ", s.str(), " is empty");
    return in.batch_first ? std::pair{s[1], s[0]} : std::pair{s[0], s[1]};
  };
  const auto [src_len, batch] = sequence(in.src, "src");
  const auto [tgt_len, tgt_batch] = sequence(in.tgt, "tgt");
  if (batch != tgt_batch)
    fail(in.tgt.name, ": batch of ", tgt_batch, " differs from ", in.src.name, "'s ", batch,
         " (both read as ", layout, ")");
  auto matrix = [](const InputArray& a, const char* axes, int64_t rows, int64_t cols) {
    if (!a.given()) return;
    const Shape want{rows, cols};
    if (!(a.values.shape() == want))
      fail(a.name, ": shape ", a.values.shape().str(), " must be ", axes, " = ", want.str());
  };
  matrix(in.src_mask, "[src_len, src_len]", src_len, src_len);
  matrix(in.tgt_mask, "[tgt_len, tgt_len]", tgt_len, tgt_len);
  matrix(in.memory_mask, "[tgt_len, src_len]", tgt_len, src_len);
  matrix(in.src_key_padding, "[batch, src_len]", batch, src_len);
  matrix(in.tgt_key_padding, "[batch, tgt_len]", batch, tgt_len);
  matrix(in.memory_key_padding, "[batch, src_len]", batch, src_len);
}

void Seq2SeqModel::forward(const TokenBatch&, KvCache&, const Hooks&, Tensor&,
                           const ForwardOptions&) {
  usage_fail(path_,
             ": a torch.nn.Transformer runs on float inputs (give --src and --tgt .npy "
             "files), not on tokens");
}

std::unique_ptr<Model> make_torch_transformer(ModelSource source, int threads) {
  return std::make_unique<TorchTransformer>(std::move(source), threads);
}

}  // namespace gb
