// Building a ModelConfig from what a file says: GGUF metadata or a Hugging Face config.json.
#pragma once

#include <string>

#include "io/gguf.h"
#include "model/config.h"

namespace gb {

// From `<arch>.*` GGUF keys (llama.cpp's names). Throws naming the file and key.
ModelConfig config_from_gguf(const io::GgufFile& file);

// From <dir>/config.json (model_type gpt2, llama, mistral, qwen2). Throws naming the file.
ModelConfig config_from_hf(const std::string& dir);

// Checks the numbers are usable (positive, heads divide evenly, ...). Throws naming `origin`.
void validate_config(const ModelConfig& c, const std::string& origin);

}  // namespace gb
