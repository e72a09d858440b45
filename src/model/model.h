// Model: a loaded transformer (weights mapped from its file, tokenizer if the file has one) and
// its forward pass. One subclass per architecture family (gpt2.cpp, llama.cpp, seq2seq.cpp).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "io/tensor_table.h"
#include "model/blocks.h"
#include "model/config.h"
#include "model/hooks.h"
#include "model/kv_cache.h"
#include "model/model_source.h"

namespace gb {

namespace tok {
class Tokenizer;
}

// Token ids of `batch` sequences: ids[b * n_pos + p].
//
// Sequences of unequal length are right-padded to n_pos (with any valid id) and their lengths
// given: causal attention never lets a real position see a padding one, so every real position
// gets exactly the activations it would get alone, and the last-position logits are taken at
// lengths[b] − 1. Hooks see the padded tensors; the padding rows (p ≥ lengths[b]) are
// meaningless. Such a ragged batch must start from an empty KV cache.
struct TokenBatch {
  std::span<const int32_t> ids;
  int batch = 1;
  int64_t n_pos = 0;
  std::span<const int64_t> lengths = {};  // [batch] positions of each row, or empty: all n_pos
};

struct ForwardOptions {
  bool all_logits = false;  // logits for every position, else only the last one of each row
};

class Model {
 public:
  virtual ~Model();

  const ModelConfig& config() const { return config_; }
  const std::string& path() const { return path_; }
  const tok::Tokenizer* tokenizer() const { return tokenizer_.get(); }
  const io::TensorTable& tensors() const { return tensors_; }
  ThreadPool& pool() const { return *pool_; }
  void set_threads(int n);

  // Whether this model has a hook site at all (hook_pos_embed only with learned positions, ...).
  virtual bool has_site(HookSite site) const = 0;

  // The stacks of blocks hook names live under, with their depths: Main (blocks.{L}.) for
  // decoder-only models; Encoder and Decoder (encoder.blocks.{L}., decoder.blocks.{L}.) for
  // encoder-decoder ones.
  struct StackDepth {
    Stack stack;
    int n_layers;
  };
  virtual std::vector<StackDepth> stacks() const { return {{Stack::Main, config_.n_layers}}; }
  // has_site() within one stack (cross-attention sites only in a decoder, ...).
  virtual bool has_site_in(Stack stack, HookSite site) const {
    return stack == Stack::Main && has_site(site);
  }

  // A KV cache for `batch` rows of up to max_pos positions, F32 or F16. Throws UsageError before
  // allocating when it would not fit in the memory available.
  KvCache new_cache(int batch, int64_t max_pos, DType kv_type = DType::F32) const;
  // The checks of new_cache without the allocation.
  void check_cache(int batch, int64_t max_pos, DType kv_type = DType::F32) const;

  // The final norm and the unembedding, for analyses that read the residual stream through
  // them (logit lens, direct logit attribution).
  virtual const NormWeights& final_norm() const = 0;
  virtual const WeightMatrix& unembedding() const = 0;  // [d_vocab, d_model]

  // Runs tokens [batch, n_pos] at positions cache.n_pos() ... and appends them to the cache.
  // logits: [batch, n_pos, d_vocab] with all_logits, else [batch, 1, d_vocab].
  virtual void forward(const TokenBatch& tokens, KvCache& cache, const Hooks& hooks, Tensor& logits,
                       const ForwardOptions& options = {}) = 0;

 protected:
  Model(ModelSource source, int threads);
  // Checks ids and positions before anything is computed.
  void check_batch(const TokenBatch& tokens, const KvCache& cache) const;
  // f32 storage for weights the file does not hold in a usable layout (small vectors, or
  // Hugging Face GPT-2's transposed Conv1D matrices).
  std::vector<float>& own(size_t n);

  std::string path_;
  ModelConfig config_;
  io::TensorTable tensors_;
  std::shared_ptr<const tok::Tokenizer> tokenizer_;  // null when the file has none
  std::shared_ptr<io::GgufFile> gguf_;               // the file, for GGUF models
  std::unique_ptr<ThreadPool> pool_;
  std::vector<std::unique_ptr<std::vector<float>>> owned_;
};

// The logits of the last position of batch row b of a forward's output [batch, n, d_vocab]
// (n is 1 unless all positions were asked for or hook_logits was observed).
std::span<const float> last_position_logits(const Tensor& logits, int b = 0);

// Opens a .gguf file or a Hugging Face checkpoint folder (config.json + safetensors) and binds
// its weights. threads <= 0: one per hardware thread. Throws gb::Error naming the file and item.
std::unique_ptr<Model> load_model(const std::string& path, int threads = 0);

}  // namespace gb
