#include "model/config_readers.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gb {
namespace {

using nlohmann::json;

Family family_of(const std::string& arch, const std::string& origin) {
  if (arch == "gpt2") return Family::Gpt2;
  if (arch == "llama" || arch == "mistral" || arch == "qwen2") return Family::Llama;
  if (arch == "torch_transformer") return Family::TorchTransformer;
  fail(origin, ": unknown architecture '", arch,
       "' (glassbox runs gpt2, llama, mistral, qwen2, torch_transformer)");
}

int64_t need_int(const io::GgufFile& f, const std::string& key) {
  auto v = f.get_int(key);
  if (!v) fail(f.path(), ": missing metadata ", key);
  if (*v <= 0 || *v > (int64_t(1) << 31))
    fail(f.path(), ": metadata ", key, " = ", *v, " is out of range");
  return *v;
}

// tools/export_torch_transformer.py's config.json: nn.Transformer's own argument names.
ModelConfig torch_transformer_config(const json& j, ModelConfig c) {
  const int version = j.value("format_version", 0);
  if (version != 1)
    fail("format_version ", version, " is not one this glassbox reads (1); re-export the model");
  c.d_model = j.at("d_model").get<int>();
  c.n_heads = j.at("nhead").get<int>();
  c.n_kv_heads = c.n_heads;
  c.d_head = c.n_heads > 0 ? c.d_model / c.n_heads : 0;
  c.n_encoder_layers = j.at("num_encoder_layers").get<int>();
  c.n_layers = j.at("num_decoder_layers").get<int>();
  c.d_mlp = j.at("dim_feedforward").get<int>();
  c.norm_eps = j.at("layer_norm_eps").get<float>();
  c.norm_first = j.at("norm_first").get<bool>();
  c.batch_first = j.at("batch_first").get<bool>();
  c.encoder_final_norm = j.at("encoder_norm").get<bool>();
  c.decoder_final_norm = j.at("decoder_norm").get<bool>();
  const std::string act = j.at("activation").get<std::string>();
  if (act == "relu")
    c.act = Activation::Relu;
  else if (act == "gelu")
    c.act = Activation::GeluErf;
  else if (act == "gelu_tanh")
    c.act = Activation::GeluTanh;
  else
    fail("activation '", act, "' is not supported (relu, gelu, gelu_tanh)");
  c.qkv_bias = true;
  return c;
}

}  // namespace

std::string family_name(Family f) {
  switch (f) {
    case Family::Gpt2:
      return "gpt2";
    case Family::Llama:
      return "llama";
    case Family::TorchTransformer:
      return "torch_transformer";
  }
  return "?";
}

std::string activation_name(Activation a) {
  switch (a) {
    case Activation::GeluTanh:
      return "gelu (tanh)";
    case Activation::GeluErf:
      return "gelu";
    case Activation::Relu:
      return "relu";
    case Activation::Silu:
      return "silu";
  }
  return "?";
}

ModelConfig config_from_gguf(const io::GgufFile& f) {
  ModelConfig c;
  c.arch = f.get_string("general.architecture").value_or("");
  if (c.arch.empty()) fail(f.path(), ": missing metadata general.architecture");
  c.family = family_of(c.arch, f.path());
  c.name = f.get_string("general.name").value_or("");
  const std::string a = c.arch + ".";
  c.n_layers = int(need_int(f, a + "block_count"));
  c.d_model = int(need_int(f, a + "embedding_length"));
  c.d_mlp = int(need_int(f, a + "feed_forward_length"));
  c.n_heads = int(need_int(f, a + "attention.head_count"));
  c.n_kv_heads = int(f.get_int(a + "attention.head_count_kv").value_or(c.n_heads));
  c.n_ctx = int(need_int(f, a + "context_length"));
  c.d_head =
      int(f.get_int(a + "attention.key_length").value_or(c.n_heads ? c.d_model / c.n_heads : 0));
  if (c.family == Family::Gpt2) {
    c.norm_eps = float(f.get_float(a + "attention.layer_norm_epsilon").value_or(1e-5));
    c.act = Activation::GeluTanh;
    c.qkv_bias = true;
  } else {
    c.norm_eps = float(f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.rope_theta = float(f.get_float(a + "rope.freq_base").value_or(10000.0));
    c.rope_dims = int(f.get_int(a + "rope.dimension_count").value_or(c.d_head));
    // llama.cpp's converter permutes llama Q/K rows into interleaved pairs; qwen2 keeps
    // rotate-half order (its rope type is "neox").
    c.rope_interleaved = c.arch != "qwen2";
    c.act = Activation::Silu;
  }
  c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
  c.qkv_bias =
      f.find_tensor("blk.0.attn_q.bias") != nullptr || f.find_tensor("blk.0.attn_qkv.bias");
  if (const auto* emb = f.find_tensor("token_embd.weight")) c.d_vocab = int(emb->shape[0]);
  return c;
}

ModelConfig config_from_hf(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / "config.json").string();
  std::ifstream in(path);
  if (!in) fail(dir, ": not a model file or checkpoint folder (no config.json)");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
  return with_context(path, [&] {
    try {
      ModelConfig c;
      c.arch = j.value("model_type", std::string());
      c.family = family_of(c.arch, "model_type");
      c.name = std::filesystem::path(dir).filename().string();
      if (c.family == Family::TorchTransformer) return torch_transformer_config(j, c);
      c.d_vocab = j.at("vocab_size").get<int>();
      if (c.family == Family::Gpt2) {
        c.n_layers = j.at("n_layer").get<int>();
        c.d_model = j.at("n_embd").get<int>();
        c.n_heads = j.at("n_head").get<int>();
        c.n_kv_heads = c.n_heads;
        c.d_head = c.n_heads ? c.d_model / c.n_heads : 0;
        c.n_ctx = j.at("n_positions").get<int>();
        c.d_mlp = j.contains("n_inner") && !j["n_inner"].is_null() ? j["n_inner"].get<int>()
                                                                   : 4 * c.d_model;
        c.norm_eps = j.value("layer_norm_epsilon", 1e-5f);
        const std::string act = j.value("activation_function", std::string("gelu_new"));
        if (act == "gelu_new" || act == "gelu_pytorch_tanh")
          c.act = Activation::GeluTanh;
        else if (act == "gelu")
          c.act = Activation::GeluErf;
        else if (act == "relu")
          c.act = Activation::Relu;
        else
          fail("activation_function '", act, "' is not supported");
        c.qkv_bias = true;
        c.tied_embeddings = true;
      } else {
        c.n_layers = j.at("num_hidden_layers").get<int>();
        c.d_model = j.at("hidden_size").get<int>();
        c.n_heads = j.at("num_attention_heads").get<int>();
        c.n_kv_heads = j.contains("num_key_value_heads") && !j["num_key_value_heads"].is_null()
                           ? j["num_key_value_heads"].get<int>()
                           : c.n_heads;
        c.d_head = j.contains("head_dim") && !j["head_dim"].is_null()
                       ? j["head_dim"].get<int>()
                       : (c.n_heads ? c.d_model / c.n_heads : 0);
        c.d_mlp = j.at("intermediate_size").get<int>();
        c.n_ctx = j.value("max_position_embeddings", 2048);
        c.norm_eps = j.value("rms_norm_eps", 1e-6f);
        c.rope_theta = j.value("rope_theta", 10000.0f);
        c.rope_dims = c.d_head;
        c.rope_interleaved = false;
        const std::string act = j.value("hidden_act", std::string("silu"));
        if (act != "silu") fail("hidden_act '", act, "' is not supported (glassbox runs silu)");
        c.act = Activation::Silu;
        c.tied_embeddings = j.value("tie_word_embeddings", false);
        c.qkv_bias = c.arch == "qwen2" || j.value("attention_bias", false);
      }
      return c;
    } catch (const json::exception& e) {
      fail(e.what());
    }
  });
}

void validate_config(const ModelConfig& c, const std::string& origin) {
  auto positive = [&](const char* what, int v) {
    if (v <= 0 || v > (1 << 24)) fail(origin, ": ", what, " = ", v, " is out of range");
  };
  positive("n_layers", c.n_layers);
  positive("d_model", c.d_model);
  positive("n_heads", c.n_heads);
  positive("n_kv_heads", c.n_kv_heads);
  positive("d_head", c.d_head);
  positive("d_mlp", c.d_mlp);
  if (c.family == Family::TorchTransformer) {
    positive("num_encoder_layers", c.n_encoder_layers);
    if (c.d_head * c.n_heads != c.d_model)
      fail(origin, ": d_model ", c.d_model, " is not divisible by nhead ", c.n_heads);
    if (!(c.norm_eps > 0)) fail(origin, ": layer_norm_eps ", c.norm_eps, " must be positive");
    return;
  }
  positive("d_vocab", c.d_vocab);
  positive("n_ctx", c.n_ctx);
  if (c.n_heads % c.n_kv_heads != 0)
    fail(origin, ": ", c.n_heads, " query heads do not divide into ", c.n_kv_heads, " kv heads");
  if (c.family == Family::Gpt2 && c.d_head * c.n_heads != c.d_model)
    fail(origin, ": d_model ", c.d_model, " is not n_heads × d_head");
  if (c.family == Family::Llama && (c.rope_dims <= 0 || c.rope_dims > c.d_head || c.rope_dims % 2))
    fail(origin, ": rope dimension count ", c.rope_dims, " does not fit head size ", c.d_head);
  if (c.rope_interleaved && c.rope_dims != c.d_head)
    fail(origin, ": partial rotary embeddings with interleaved Q/K rows are not supported");
}

}  // namespace gb
