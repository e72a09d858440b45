#include "model/hf_names.h"

#include <memory>
#include <vector>

#include "core/error.h"

namespace gb {
namespace {

struct Rename {
  std::string hf, gguf;
  bool transpose = false;  // HF stores [in, out]
  bool optional = false;
};

std::vector<Rename> llama_renames(const ModelConfig& c) {
  std::vector<Rename> r = {{"model.embed_tokens.weight", "token_embd.weight"},
                           {"model.norm.weight", "output_norm.weight"},
                           {"lm_head.weight", "output.weight", false, c.tied_embeddings}};
  const std::pair<const char*, const char*> parts[] = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"}};
  const std::pair<const char*, const char*> biases[] = {
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.bias", "attn_output.bias"}};
  for (int L = 0; L < c.n_layers; ++L) {
    const std::string hf = "model.layers." + std::to_string(L) + ".";
    const std::string gg = "blk." + std::to_string(L) + ".";
    for (auto [h, g] : parts) r.push_back({hf + h, gg + g});
    for (auto [h, g] : biases) r.push_back({hf + h, gg + g, false, true});
  }
  return r;
}

std::vector<Rename> gpt2_renames(const ModelConfig& c, const std::string& t) {
  std::vector<Rename> r = {{t + "wte.weight", "token_embd.weight"},
                           {t + "wpe.weight", "position_embd.weight"},
                           {t + "ln_f.weight", "output_norm.weight"},
                           {t + "ln_f.bias", "output_norm.bias"}};
  const std::tuple<const char*, const char*, bool> parts[] = {
      {"ln_1.weight", "attn_norm.weight", false},
      {"ln_1.bias", "attn_norm.bias", false},
      {"attn.c_attn.weight", "attn_qkv.weight", true},
      {"attn.c_attn.bias", "attn_qkv.bias", false},
      {"attn.c_proj.weight", "attn_output.weight", true},
      {"attn.c_proj.bias", "attn_output.bias", false},
      {"ln_2.weight", "ffn_norm.weight", false},
      {"ln_2.bias", "ffn_norm.bias", false},
      {"mlp.c_fc.weight", "ffn_up.weight", true},
      {"mlp.c_fc.bias", "ffn_up.bias", false},
      {"mlp.c_proj.weight", "ffn_down.weight", true},
      {"mlp.c_proj.bias", "ffn_down.bias", false}};
  for (int L = 0; L < c.n_layers; ++L) {
    const std::string hf = t + "h." + std::to_string(L) + ".";
    const std::string gg = "blk." + std::to_string(L) + ".";
    for (auto [h, g, tr] : parts) r.push_back({hf + h, gg + g, tr});
  }
  return r;
}

// An f32 copy of t with its two axes swapped.
io::TensorRef transposed(const io::TensorRef& t, io::TensorTable& out) {
  if (t.shape.size() != 2)
    fail(t.file, ": tensor ", t.name, ": expected a matrix, found shape ", t.shape_str());
  const int64_t rows = t.shape[0], cols = t.shape[1];
  std::vector<float> src(size_t(rows * cols));
  dequantize_row(t.dtype, t.data, src.data(), rows * cols);
  auto dst = std::make_shared<std::vector<float>>(size_t(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) (*dst)[size_t(c * rows + r)] = src[size_t(r * cols + c)];
  io::TensorRef ref = t;
  ref.data = dst->data();
  ref.dtype = DType::F32;
  ref.dtype_label = "f32";
  ref.shape = {cols, rows};
  ref.bytes = dst->size() * sizeof(float);
  out.hold(std::shared_ptr<const std::vector<float>>(std::move(dst)));
  return ref;
}

}  // namespace

io::TensorTable hf_to_gguf_names(const io::TensorTable& hf, const ModelConfig& config,
                                 const std::string& origin) {
  std::vector<Rename> renames;
  if (config.family == Family::Llama) {
    renames = llama_renames(config);
  } else {
    // GPT2LMHeadModel checkpoints prefix names with "transformer."; GPT2Model's do not.
    renames = gpt2_renames(config, hf.find("transformer.wte.weight") ? "transformer." : "");
  }
  io::TensorTable out;
  for (const auto& f : hf.files()) out.hold(f);
  for (const Rename& r : renames) {
    const io::TensorRef* t = hf.find(r.hf);
    if (!t) {
      if (r.optional) continue;
      fail(origin, ": missing tensor ", r.hf);
    }
    if (!t->supported)
      fail(t->file, ": tensor ", r.hf, ": dtype ", t->dtype_label, " is not supported");
    io::TensorRef ref = r.transpose ? transposed(*t, out) : *t;
    ref.name = r.gguf;
    ref.source_name = r.hf;
    out.add(std::move(ref));
  }
  return out;
}

}  // namespace gb
