// Statistics of a model's weights, one tensor at a time: what `glassbox weights` shows and the
// viewer can show.
//
// The caller dequantises one tensor (dequantize_tensor), computes its statistics
// (weight_stats), uses the values for anything else it wants (a heat map, the comparison with a
// reference) and releases them before the next tensor, so memory stays bounded by the largest
// tensor. All sums are accumulated in double.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "analysis/quantization_error.h"
#include "analysis/top_singular_values.h"
#include "export/histogram.h"
#include "io/tensor_table.h"

namespace gb {

// Moments of a tensor's values. Non-finite values (NaN, ±Inf) are counted and left out of
// everything else; fractions are of all elements.
struct ValueStats {
  int64_t count = 0;      // elements
  int64_t finite = 0;     // finite elements (the ones the statistics below are over)
  int64_t nan_count = 0;  // NaN elements
  int64_t inf_count = 0;  // +Inf and -Inf elements
  double l2_norm = 0;     // sqrt(sum x²)
  double sum_squares = 0;
  double mean = 0;
  double std = 0;  // population standard deviation (divides by the count, as NumPy's np.std)
  double min = 0, max = 0;
  double abs_max = 0;
  double zero_fraction = 0;  // elements exactly 0 (either sign), over count
};

// Mean by a first pass, std by a second over (x - mean)².
ValueStats value_stats(std::span<const float> values);

struct WeightStatsOptions {
  SpectrumOptions spectrum = {};  // singular values for 2-D tensors; spectrum.values = 0: none
  ThreadPool* pool = nullptr;     // splits the singular values' products; null: one thread
  bool histogram = true;
};

struct WeightStats {
  std::string name;
  std::string dtype;           // as the file names it
  std::vector<int64_t> shape;  // row-major
  bool computed = false;       // false: a dtype glassbox cannot read; only the above is set
  ValueStats values = {};
  Histogram histogram = {};             // TensorBoard's default buckets (export/histogram.h)
  std::vector<double> singular_values;  // largest first; 2-D tensors with finite values only
  std::optional<QuantizationNoise> quantization;  // Q8_0 / Q4_0 only
  std::optional<ReferenceError> reference;        // set by the caller that has a reference
  std::string note;  // why something was not computed ("" when everything was)
};

// Whether statistics can be computed for t (a dtype glassbox reads).
bool can_read(const io::TensorRef& t);

// t's values as f32: [numel], in its row-major order. Throws gb::Error naming the tensor for a
// dtype glassbox cannot read.
std::vector<float> dequantize_tensor(const io::TensorRef& t);

// values: dequantize_tensor(t). The singular values are those of the tensor as a matrix
// [shape[0], shape[1]] when it has two dimensions, both larger than 1.
WeightStats weight_stats(const io::TensorRef& t, std::span<const float> values,
                         const WeightStatsOptions& options = {});

// Only name, dtype and shape, with a note saying why nothing else was computed.
WeightStats unreadable_weight_stats(const io::TensorRef& t);

}  // namespace gb
