// Factories of the architecture families (one file each), used by load_model.
#pragma once

#include <memory>

#include "model/model.h"
#include "model/model_source.h"

namespace gb {

std::unique_ptr<Model> make_llama(ModelSource source, int threads);
std::unique_ptr<Model> make_gpt2(ModelSource source, int threads);
std::unique_ptr<Model> make_torch_transformer(ModelSource source, int threads);

}  // namespace gb
