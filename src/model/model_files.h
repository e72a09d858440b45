// The tensors of a model path exactly as its file stores them: the file's own names, dtypes and
// shapes, with no renaming, transposing or binding to an architecture. For tools that look at
// weights without running the model (glassbox weights), so they also work for architectures
// glassbox cannot run.
#pragma once

#include <string>

#include "io/tensor_table.h"

namespace gb {

// `path` is what `-m MODEL` accepts everywhere: a .gguf file or a Hugging Face checkpoint folder
// (config.json with model.safetensors or a sharded index); a single .safetensors file is also
// accepted. Tensors stay memory-mapped. Throws gb::Error naming the path and the problem.
io::TensorTable read_model_tensors(const std::string& path);

}  // namespace gb
