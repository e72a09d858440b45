#include "model/config_json.h"

namespace gb {

nlohmann::json config_json(const ModelConfig& c) {
  if (c.family == Family::TorchTransformer)
    return {{"family", family_name(c.family)},
            {"name", c.name},
            {"n_encoder_layers", c.n_encoder_layers},
            {"n_decoder_layers", c.n_layers},
            {"d_model", c.d_model},
            {"n_heads", c.n_heads},
            {"d_head", c.d_head},
            {"d_mlp", c.d_mlp},
            {"norm_eps", c.norm_eps},
            {"norm_first", c.norm_first},
            {"batch_first", c.batch_first},
            {"encoder_final_norm", c.encoder_final_norm},
            {"decoder_final_norm", c.decoder_final_norm},
            {"activation", activation_name(c.act)},
            {"n_params", c.n_params}};
  return {{"family", family_name(c.family)},
          {"arch", c.arch},
          {"name", c.name},
          {"n_layers", c.n_layers},
          {"d_model", c.d_model},
          {"n_heads", c.n_heads},
          {"n_kv_heads", c.n_kv_heads},
          {"d_head", c.d_head},
          {"d_mlp", c.d_mlp},
          {"d_vocab", c.d_vocab},
          {"n_ctx", c.n_ctx},
          {"norm_eps", c.norm_eps},
          {"rope_theta", c.rope_theta},
          {"rope_dims", c.rope_dims},
          {"rope_interleaved", c.rope_interleaved},
          {"qkv_bias", c.qkv_bias},
          {"tied_embeddings", c.tied_embeddings},
          {"activation", activation_name(c.act)},
          {"n_params", c.n_params}};
}

}  // namespace gb
