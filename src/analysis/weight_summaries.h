// Weight statistics as TensorBoard summaries (gb::SummaryWriter), for `glassbox weights
// --tensorboard DIR`.
//
// Tags and steps: a tensor's layer becomes the step, so each kind of weight is one plot over
// depth. The first dot-separated segment of the name that is all digits is the layer; it is
// replaced by "{L}" in the tag and used as the step (tensors without one: step 0, name as is).
// "blk.3.attn_q.weight" is written at step 3 under
//   histogram/blk.{L}.attn_q.weight          histogram of the values (export/histogram.h buckets)
//   norm/…, std/…, abs_max/…                 scalars
//   sigma_1/…                                the largest singular value (2-D tensors)
//   quant_rel_error/…                        estimated ‖x̂ - x‖ / ‖x‖ (Q8_0, Q4_0; see
//                                            quantization_error.h)
//   reference_rel_error/…                    measured ‖x̂ - r‖ / ‖r‖ (with a reference)
//   heatmap/…                                2-D tensors: the matrix as an image, diverging
//                                            colormap centred on 0 (blue negative, red
//                                            positive), averaged down in blocks to at most
//                                            kWeightHeatmapSide cells a side
// Non-finite scalars are not written.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "analysis/weight_stats.h"
#include "export/summary_writer.h"

namespace gb {

inline constexpr int kWeightHeatmapSide = 512;

struct SummaryPlace {
  std::string tag;   // the name with its layer replaced by "{L}"
  int64_t step = 0;  // the layer, or 0
};

SummaryPlace summary_place(const std::string& tensor_name);

// values: the tensor's dequantised values (for the heat map); stats: weight_stats() of them.
void add_weight_summaries(SummaryWriter& writer, const WeightStats& stats,
                          std::span<const float> values);

}  // namespace gb
