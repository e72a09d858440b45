// Opening a model path: GGUF file, Hugging Face checkpoint folder or exported torch.nn.Transformer
// folder -> the right family's Model.
#include <filesystem>

#include "core/error.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "model/config_readers.h"
#include "model/families.h"
#include "model/hf_names.h"
#include "model/model_source.h"
#include "tokenizer/tokenizer.h"

namespace gb {

namespace {

bool has_hf_tokenizer(const std::string& dir) {
  namespace fs = std::filesystem;
  return fs::exists(fs::path(dir) / "tokenizer.json") || fs::exists(fs::path(dir) / "vocab.json");
}

}  // namespace

ModelSource open_model_source(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.empty()) usage_fail("no model given");
  if (!fs::exists(path, ec)) fail(path, ": no such file or directory");
  ModelSource src;
  src.path = path;
  if (fs::is_directory(path, ec)) {
    src.config = config_from_hf(path);
    src.tensors = io::read_safetensors_checkpoint(path);
    // torch.nn.Transformer folders keep PyTorch's names; only decoder-only checkpoints have a
    // GGUF counterpart (and a tokenizer).
    if (src.config.family != Family::TorchTransformer) {
      src.tensors = hf_to_gguf_names(src.tensors, src.config, path);
      if (has_hf_tokenizer(path)) src.tokenizer = tok::Tokenizer::from_hf_dir(path);
    }
  } else {
    src.gguf = std::make_shared<io::GgufFile>(io::GgufFile::open(path));
    src.config = config_from_gguf(*src.gguf);
    src.tensors = src.gguf->tensor_table();
    if (src.gguf->find("tokenizer.ggml.model"))
      src.tokenizer = tok::Tokenizer::from_gguf(*src.gguf);
  }
  if (src.tokenizer && src.tokenizer->vocab_size() > src.config.d_vocab)
    fail(path, ": tokenizer has ", src.tokenizer->vocab_size(), " tokens but the model only ",
         src.config.d_vocab, " output rows");
  if (src.config.family == Family::Llama && src.config.rope_dims == 0)
    src.config.rope_dims = src.config.d_head;
  validate_config(src.config, path);
  return src;
}

std::unique_ptr<Model> load_model(const std::string& path, int threads) {
  ModelSource src = open_model_source(path);
  for (const std::shared_ptr<io::MappedFile>& file : src.tensors.files()) file->prefer_huge_pages();
  switch (src.config.family) {
    case Family::Gpt2:
      return make_gpt2(std::move(src), threads);
    case Family::Llama:
      return make_llama(std::move(src), threads);
    case Family::TorchTransformer:
      return make_torch_transformer(std::move(src), threads);
  }
  fail(path, ": unknown model family");
}

}  // namespace gb
