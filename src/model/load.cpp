// load_model: GGUF file or Hugging Face checkpoint folder -> the right family's Model.
#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"
#include "model/config_readers.h"
#include "model/families.h"
#include "model/hf_names.h"

namespace gb {

std::unique_ptr<Model> load_model(const std::string& path, int threads) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, ": no such file or directory");
  FamilySource src;
  src.path = path;
  src.threads = threads;
  if (fs::is_directory(path, ec)) {
    src.config = config_from_hf(path);
    src.tensors = hf_to_gguf_names(io::read_safetensors_checkpoint(path), src.config, path);
  } else {
    const io::GgufFile file = io::GgufFile::open(path);
    src.config = config_from_gguf(file);
    src.tensors = file.tensor_table();
  }
  if (src.config.family == Family::Llama && src.config.rope_dims == 0)
    src.config.rope_dims = src.config.d_head;
  validate_config(src.config, path);
  const Family family = src.config.family;
  return family == Family::Gpt2 ? make_gpt2(std::move(src)) : make_llama(std::move(src));
}

}  // namespace gb
