// Hugging Face checkpoints use their own tensor names and, for GPT-2, [in, out] Conv1D
// matrices. Loading renames them to llama.cpp's GGUF names (transposing where needed), so each
// architecture family binds one naming convention and `glassbox convert` writes the same table.
#pragma once

#include <string>

#include "io/tensor_table.h"
#include "model/config.h"

namespace gb {

// hf: tensors named as in the checkpoint. Returns the same tensors under GGUF names (views of
// the same mapped data; transposed GPT-2 matrices in f32 buffers the table holds). Tensors the
// model does not use (e.g. GPT-2's attention-mask buffers) are left out. Q/K stay in rotate-half
// order. Throws naming `origin` when an expected tensor is missing.
io::TensorTable hf_to_gguf_names(const io::TensorTable& hf, const ModelConfig& config,
                                 const std::string& origin);

}  // namespace gb
