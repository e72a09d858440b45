// Tiny random-weight model files written with GgufWriter, for C++ tests of model invariants.
#pragma once

#include <string>

namespace gb::testing {

struct TinyModelSpec {
  std::string arch = "llama";  // "llama" or "gpt2"
  int n_layers = 2, d_model = 64, n_heads = 4, n_kv_heads = 2, d_mlp = 96, vocab = 50, n_ctx = 64;
  unsigned seed = 1;
};

// Writes a GGUF file with random weights (f32) and returns its path (in the temp directory).
std::string write_tiny_model(const TinyModelSpec& spec, const std::string& file_name);

}  // namespace gb::testing
