// Normalisation layers over the last axis of a [rows, d] matrix.
//
// Split in two steps so hooks can see TransformerLens's ln.hook_scale / ln.hook_normalized:
//   norm_scale:      scale[r] = sqrt(var(x[r]) + eps)        (LayerNorm, mean removed)
//                    scale[r] = sqrt(mean(x[r]²) + eps)      (RMSNorm)
//   norm_normalize:  out[r] = (x[r] - mean[r]) / scale[r]   (mean = 0 for RMSNorm)
//   norm_affine:     out[r] = out[r] * w + b               (b optional)
#pragma once

#include <cstdint>

namespace gb::ops {

enum class NormKind : uint8_t { LayerNorm, RmsNorm };

// x: [rows, d] -> scale: [rows]
void norm_scale(NormKind kind, const float* x, int64_t rows, int64_t d, float eps, float* scale);
// x: [rows, d], scale: [rows] -> out: [rows, d] (may alias x)
void norm_normalize(NormKind kind, const float* x, const float* scale, int64_t rows, int64_t d,
                    float* out);
// out: [rows, d] *= w [d], += b [d] (b may be null)
void norm_affine(float* out, int64_t rows, int64_t d, const float* w, const float* b);

}  // namespace gb::ops
