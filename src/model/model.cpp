#include "model/model.h"

#include "core/error.h"
#include "core/memory.h"

namespace gb {
Model::Model(ModelSource source, int threads)
    : path_(std::move(source.path)),
      config_(std::move(source.config)),
      tensors_(std::move(source.tensors)),
      tokenizer_(std::move(source.tokenizer)),
      gguf_(std::move(source.gguf)) {
  set_threads(threads);
  config_.n_params = 0;
  for (const auto& [name, t] : tensors_.all()) config_.n_params += t.numel();
}

Model::~Model() = default;

void Model::set_threads(int n) {
  pool_ = std::make_unique<ThreadPool>(n > 0 ? n : ThreadPool::hardware_threads());
}

KvCache Model::new_cache(int batch, int64_t max_pos, DType kv_type) const {
  check_cache(batch, max_pos, kv_type);
  return KvCache(config_.n_layers, batch, max_pos, config_.n_kv_heads * config_.d_head, kv_type);
}

void Model::check_cache(int batch, int64_t max_pos, DType kv_type) const {
  if (batch <= 0) usage_fail("batch size must be positive");
  if (max_pos <= 0) usage_fail("context size must be positive");
  if (config_.family == Family::Gpt2 && max_pos > config_.n_ctx)
    usage_fail("context of ", max_pos, " positions exceeds the model's ", config_.n_ctx,
               " learned positions");
  const int width = config_.n_kv_heads * config_.d_head;
  const double bytes = KvCache::bytes_needed(config_.n_layers, batch, max_pos, width, kv_type);
  require_memory(bytes, "the KV cache for a context of " + std::to_string(max_pos) +
                            " positions × " + std::to_string(batch) + " rows");
}

void Model::check_batch(const TokenBatch& tokens, const KvCache& cache) const {
  if (tokens.batch != cache.batch())
    fail("batch of ", tokens.batch, " rows given to a KV cache for ", cache.batch());
  if (tokens.n_pos <= 0) usage_fail("no tokens to run");
  if (int64_t(tokens.ids.size()) != tokens.batch * tokens.n_pos)
    fail("token batch holds ", tokens.ids.size(), " ids, not ", tokens.batch, " × ", tokens.n_pos);
  if (cache.n_pos() + tokens.n_pos > cache.max_pos())
    usage_fail("context full: ", cache.n_pos(), " + ", tokens.n_pos, " positions exceed the ",
               cache.max_pos(), " the cache holds");
  if (!tokens.lengths.empty()) {
    if (int64_t(tokens.lengths.size()) != tokens.batch)
      fail("token batch gives ", tokens.lengths.size(), " lengths for ", tokens.batch, " rows");
    if (cache.n_pos() != 0)
      usage_fail("a batch of unequal lengths must start from an empty KV cache (it holds ",
                 cache.n_pos(), " positions)");
    for (int64_t len : tokens.lengths)
      if (len < 1 || len > tokens.n_pos)
        fail("token batch row length ", len, " is outside 1..", tokens.n_pos);
  }
  for (int32_t id : tokens.ids)
    if (id < 0 || id >= config_.d_vocab)
      usage_fail("token id ", id, " is out of range for a vocabulary of ", config_.d_vocab);
}

std::vector<float>& Model::own(size_t n) {
  owned_.push_back(std::make_unique<std::vector<float>>(n));
  return *owned_.back();
}

std::span<const float> last_position_logits(const Tensor& logits, int b) {
  const Shape& s = logits.shape();
  if (s.rank != 3 || b < 0 || b >= s[0])
    fail("logits of shape ", s.str(), " have no batch row ", b);
  return {logits.data() + (int64_t(b) * s[1] + s[1] - 1) * s[2], size_t(s[2])};
}

}  // namespace gb
