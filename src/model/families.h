// Factories of the architecture families (one file each), used by load_model.
#pragma once

#include <memory>
#include <string>

#include "io/tensor_table.h"
#include "model/model.h"

namespace gb {

struct FamilySource {
  std::string path;
  ModelConfig config;
  io::TensorTable tensors;  // under GGUF names (see hf_names.h)
  int threads = 0;
};

std::unique_ptr<Model> make_llama(FamilySource source);
std::unique_ptr<Model> make_gpt2(FamilySource source);

}  // namespace gb
