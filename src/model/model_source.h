// What a model path holds, before any weights are bound: its config, its tensors under GGUF
// names, and (for GGUF files) the file itself for metadata such as the tokenizer.
#pragma once

#include <memory>
#include <string>

#include "io/gguf.h"
#include "io/tensor_table.h"
#include "model/config.h"

namespace gb {

namespace tok {
class Tokenizer;
}

struct ModelSource {
  std::string path;
  ModelConfig config;
  io::TensorTable tensors;                          // GGUF names (Hugging Face names are mapped)
  std::shared_ptr<io::GgufFile> gguf;               // null for Hugging Face checkpoints
  std::shared_ptr<const tok::Tokenizer> tokenizer;  // null when the model has none
};

// A .gguf file or a Hugging Face checkpoint folder. Throws gb::Error naming the path and item.
ModelSource open_model_source(const std::string& path);

}  // namespace gb
