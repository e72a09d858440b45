// Converting a model (Hugging Face checkpoint or GGUF) into a GGUF file of a chosen weight type,
// in llama.cpp's layout: llama Q/K rows interleaved, GPT-2 matrices [out, in], llama.cpp's
// metadata keys, so the result also runs in llama.cpp.
#pragma once

#include <string>

#include "core/dtype.h"

namespace gb {

struct ConvertOptions {
  DType type = DType::F16;  // for 2-D weight matrices; norms and biases stay F32
  std::string name;         // general.name (default: the source's name)
};

struct ConvertReport {
  int tensors = 0;
  int kept_wider = 0;  // matrices whose rows are not whole quant blocks (written as F16)
  uint64_t bytes = 0;  // output file size
};

ConvertReport convert_to_gguf(const std::string& source, const std::string& out,
                              const ConvertOptions& options);

}  // namespace gb
