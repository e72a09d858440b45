#include "test_models.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "io/gguf.h"

namespace gb::testing {

std::string write_tiny_model(const TinyModelSpec& s, const std::string& file_name) {
  using io::GgufValue;
  const std::string path = (std::filesystem::temp_directory_path() / file_name).string();
  io::GgufWriter w(path);
  const std::string a = s.arch + ".";
  w.set("general.architecture", GgufValue::string(s.arch));
  w.set(a + "block_count", GgufValue::u32(uint32_t(s.n_layers)));
  w.set(a + "embedding_length", GgufValue::u32(uint32_t(s.d_model)));
  w.set(a + "feed_forward_length", GgufValue::u32(uint32_t(s.d_mlp)));
  w.set(a + "attention.head_count", GgufValue::u32(uint32_t(s.n_heads)));
  w.set(a + "context_length", GgufValue::u32(uint32_t(s.n_ctx)));
  if (s.arch == "llama") {
    w.set(a + "attention.head_count_kv", GgufValue::u32(uint32_t(s.n_kv_heads)));
    w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(1e-5f));
  } else {
    w.set(a + "attention.layer_norm_epsilon", GgufValue::f32(1e-5f));
  }
  static std::vector<std::vector<float>> storage;  // lives until the file is written
  std::mt19937 rng(s.seed);
  auto tensor = [&](const std::string& name, std::vector<int64_t> shape, float std,
                    float mean = 0) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    std::normal_distribution<float> dist(mean, std);
    storage.emplace_back(static_cast<size_t>(n));
    for (float& x : storage.back()) x = dist(rng);
    w.add_tensor(name, shape, DType::F32, storage.back().data());
  };
  const int64_t d = s.d_model, dh = d / s.n_heads, f = s.d_mlp;
  const float wstd = 1.5f / std::sqrt(float(d));
  tensor("token_embd.weight", {s.vocab, d}, 0.5f);
  for (int L = 0; L < s.n_layers; ++L) {
    const std::string p = "blk." + std::to_string(L) + ".";
    tensor(p + "attn_norm.weight", {d}, 0.1f, 1.0f);
    tensor(p + "ffn_norm.weight", {d}, 0.1f, 1.0f);
    if (s.arch == "llama") {
      tensor(p + "attn_q.weight", {s.n_heads * dh, d}, wstd);
      tensor(p + "attn_k.weight", {s.n_kv_heads * dh, d}, wstd);
      tensor(p + "attn_v.weight", {s.n_kv_heads * dh, d}, wstd);
      tensor(p + "attn_output.weight", {d, s.n_heads * dh}, wstd);
      tensor(p + "ffn_gate.weight", {f, d}, wstd);
      tensor(p + "ffn_up.weight", {f, d}, wstd);
      tensor(p + "ffn_down.weight", {d, f}, wstd);
    } else {
      tensor(p + "attn_norm.bias", {d}, 0.1f);
      tensor(p + "ffn_norm.bias", {d}, 0.1f);
      tensor(p + "attn_qkv.weight", {3 * d, d}, wstd);
      tensor(p + "attn_qkv.bias", {3 * d}, 0.1f);
      tensor(p + "attn_output.weight", {d, d}, wstd);
      tensor(p + "attn_output.bias", {d}, 0.1f);
      tensor(p + "ffn_up.weight", {f, d}, wstd);
      tensor(p + "ffn_up.bias", {f}, 0.1f);
      tensor(p + "ffn_down.weight", {d, f}, wstd);
      tensor(p + "ffn_down.bias", {d}, 0.1f);
    }
  }
  tensor("output_norm.weight", {d}, 0.1f, 1.0f);
  if (s.arch == "gpt2") {
    tensor("output_norm.bias", {d}, 0.1f);
    tensor("position_embd.weight", {s.n_ctx, d}, 0.3f);
  } else {
    tensor("output.weight", {s.vocab, d}, 0.5f);
  }
  w.write();
  storage.clear();
  return path;
}

std::unique_ptr<Model> load_tiny_model(const std::string& arch, const std::string& prefix,
                                       int threads) {
  TinyModelSpec spec;
  spec.arch = arch;
  return load_model(write_tiny_model(spec, prefix + arch + ".gguf"), threads);
}

float max_abs_diff(const float* a, const float* b, int64_t n) {
  float m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace gb::testing
