// ModelConfig: the hyperparameters of a loaded model, as plain runtime data.
#pragma once

#include <cstdint>
#include <string>

namespace gb {

// Architecture families glassbox runs. Each has its own weights struct and layer function.
enum class Family : uint8_t {
  Gpt2,   // learned positions, LayerNorm with bias, GELU MLP, fused qkv
  Llama,  // RoPE, RMSNorm, SwiGLU MLP, grouped-query attention (Llama, Mistral, Qwen2, ...)
  TorchTransformer,  // torch.nn.Transformer: encoder-decoder on float inputs, post- or pre-LN
};

enum class Activation : uint8_t { GeluTanh, GeluErf, Relu, Silu };

std::string family_name(Family f);
std::string activation_name(Activation a);

struct ModelConfig {
  Family family = Family::Llama;
  std::string arch;          // name as the file gives it: "llama", "qwen2", "gpt2", ...
  std::string name;          // general.name or the checkpoint folder name
  int n_layers = 0;          // transformer blocks
  int d_model = 0;           // residual stream width
  int n_heads = 0;           // query heads
  int n_kv_heads = 0;        // key/value heads (== n_heads without GQA)
  int d_head = 0;            // per-head width (d_model / n_heads unless the file says otherwise)
  int d_mlp = 0;             // MLP hidden width
  int d_vocab = 0;           // vocabulary size (rows of the unembedding)
  int n_ctx = 0;             // trained context length (positions)
  float norm_eps = 1e-5f;    // LayerNorm / RMSNorm epsilon
  float rope_theta = 10000;  // RoPE base frequency (Llama family)
  int rope_dims = 0;         // dimensions of each head that RoPE rotates (== d_head usually)
  bool rope_interleaved = false;  // Q/K weights stored in interleaved-pair order (GGUF llama)
  bool qkv_bias = false;          // q/k/v projections have biases (GPT-2, Qwen2)
  bool tied_embeddings = false;   // unembedding reuses the token embedding matrix
  Activation act = Activation::Silu;

  // Encoder-decoder models (TorchTransformer) only. n_layers counts the decoder blocks there.
  int n_encoder_layers = 0;         // encoder blocks
  bool norm_first = false;          // LayerNorm before each sublayer (pre-LN), else after it
  bool batch_first = false;         // the module's layout: [batch, seq, d] (else [seq, batch, d])
  bool encoder_final_norm = false;  // a LayerNorm after the last encoder block
  bool decoder_final_norm = false;  // a LayerNorm after the last decoder block

  int64_t n_params = 0;  // parameters in the file's tensors

  bool gqa() const { return n_kv_heads != n_heads; }
};

}  // namespace gb
