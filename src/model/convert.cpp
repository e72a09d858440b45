#include "model/convert.h"

#include <filesystem>
#include <vector>

#include "core/error.h"
#include "io/gguf.h"
#include "model/model_source.h"
#include "tokenizer/tokenizer.h"

namespace gb {
namespace {

// llama.cpp's general.file_type values.
uint32_t file_type(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::F16:
      return 1;
    case DType::Q4_0:
      return 2;
    case DType::Q8_0:
      return 7;
    case DType::BF16:
      return 32;
    default:
      return 0;
  }
}

void write_hparams(io::GgufWriter& w, const ModelConfig& c, const std::string& name, DType type) {
  using io::GgufValue;
  const std::string a = c.arch + ".";
  w.set("general.architecture", GgufValue::string(c.arch));
  w.set("general.name", GgufValue::string(name));
  w.set("general.file_type", GgufValue::u32(file_type(type)));
  w.set(a + "context_length", GgufValue::u32(uint32_t(c.n_ctx)));
  w.set(a + "embedding_length", GgufValue::u32(uint32_t(c.d_model)));
  w.set(a + "feed_forward_length", GgufValue::u32(uint32_t(c.d_mlp)));
  w.set(a + "block_count", GgufValue::u32(uint32_t(c.n_layers)));
  w.set(a + "attention.head_count", GgufValue::u32(uint32_t(c.n_heads)));
  w.set(a + "attention.head_count_kv", GgufValue::u32(uint32_t(c.n_kv_heads)));
  if (c.d_head * c.n_heads != c.d_model) {
    w.set(a + "attention.key_length", GgufValue::u32(uint32_t(c.d_head)));
    w.set(a + "attention.value_length", GgufValue::u32(uint32_t(c.d_head)));
  }
  w.set(a + "vocab_size", GgufValue::u32(uint32_t(c.d_vocab)));
  if (c.family == Family::Gpt2) {
    w.set(a + "attention.layer_norm_epsilon", GgufValue::f32(c.norm_eps));
  } else {
    w.set(a + "attention.layer_norm_rms_epsilon", GgufValue::f32(c.norm_eps));
    w.set(a + "rope.freq_base", GgufValue::f32(c.rope_theta));
    w.set(a + "rope.dimension_count", GgufValue::u32(uint32_t(c.rope_dims)));
  }
}

// Rotate-half order -> llama.cpp's interleaved pairs, for rows of Q/K (or their biases):
// within each head, new row 2i = old row i, new row 2i+1 = old row i + d_head/2.
void interleave_rows(float* x, int64_t n_rows, int64_t row_len, int d_head) {
  std::vector<float> head(size_t(d_head * row_len));
  const int half = d_head / 2;
  for (int64_t h0 = 0; h0 < n_rows; h0 += d_head) {
    float* base = x + h0 * row_len;
    std::copy(base, base + d_head * row_len, head.begin());
    for (int i = 0; i < half; ++i) {
      std::copy_n(head.data() + i * row_len, row_len, base + (2 * i) * row_len);
      std::copy_n(head.data() + (i + half) * row_len, row_len, base + (2 * i + 1) * row_len);
    }
  }
}

}  // namespace

ConvertReport convert_to_gguf(const std::string& source, const std::string& out,
                              const ConvertOptions& options) {
  auto src = std::make_shared<ModelSource>(open_model_source(source));
  ModelConfig& c = src->config;
  if (c.family == Family::TorchTransformer)
    usage_fail(source,
               ": torch.nn.Transformer folders have no GGUF layout; glassbox runs them as "
               "they are");
  // llama.cpp's "llama" arch expects Q/K rows interleaved; qwen2 ("neox" RoPE) does not.
  const bool interleave = c.family == Family::Llama && c.arch != "qwen2" && !c.rope_interleaved;
  io::GgufWriter w(out);
  write_hparams(w, c, options.name.empty() ? c.name : options.name, options.type);
  if (src->gguf) {  // carry the tokenizer metadata over as it is
    for (const auto& [key, value] : src->gguf->metadata())
      if (key.rfind("tokenizer.", 0) == 0) w.set(key, value);
  } else if (src->tokenizer) {
    src->tokenizer->write_gguf(w);
  }
  ConvertReport report;
  for (const auto& [name, t] : src->tensors.all()) {
    const bool matrix = t.shape.size() == 2;
    DType type = matrix ? options.type : DType::F32;
    if (is_quantized(type) && t.shape.back() % kQuantBlock != 0) {
      type = DType::F16;
      ++report.kept_wider;
    }
    const bool permute = interleave && (name.find(".attn_q.") != std::string::npos ||
                                        name.find(".attn_k.") != std::string::npos);
    const int64_t numel = t.numel();
    const int64_t row_len = matrix ? t.shape[1] : 1;
    const int d_head = c.d_head;
    const io::TensorRef* ref = &t;
    w.add_tensor(name, t.shape, type, [src, ref, type, permute, numel, row_len, d_head](void* dst) {
      std::vector<float> f32(static_cast<size_t>(numel));
      dequantize_row(ref->dtype, ref->data, f32.data(), numel);
      if (permute) interleave_rows(f32.data(), numel / row_len, row_len, d_head);
      quantize_row(type, f32.data(), dst, numel);
    });
    ++report.tensors;
  }
  w.write();
  report.bytes = std::filesystem::file_size(out);
  return report;
}

}  // namespace gb
