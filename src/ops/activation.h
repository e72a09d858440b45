// Elementwise activation functions, in place over n values.
#pragma once

#include <cstdint>

namespace gb::ops {

void gelu_tanh(float* x, int64_t n);  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))  (GPT-2)
void gelu_erf(float* x, int64_t n);   // 0.5·x·(1 + erf(x/√2))
void relu(float* x, int64_t n);
void silu(float* x, int64_t n);  // x·σ(x)

}  // namespace gb::ops
