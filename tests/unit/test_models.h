// Tiny random-weight model files written with GgufWriter, for C++ tests of model invariants.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/model.h"

namespace gb::testing {

struct TinyModelSpec {
  std::string arch = "llama";  // "llama" or "gpt2"
  int n_layers = 2, d_model = 64, n_heads = 4, n_kv_heads = 2, d_mlp = 96, vocab = 50, n_ctx = 64;
  unsigned seed = 1;
};

// Writes a GGUF file with random weights (f32) and returns its path (in the temp directory).
std::string write_tiny_model(const TinyModelSpec& spec, const std::string& file_name);

// A tiny model of `arch` with the default spec, written as "<prefix><arch>.gguf".
std::unique_ptr<Model> load_tiny_model(const std::string& arch, const std::string& prefix,
                                       int threads);

// Largest |a[i] - b[i]| over n values.
float max_abs_diff(const float* a, const float* b, int64_t n);

}  // namespace gb::testing
