// Weight inspection of a whole model file: which tensors, in which order, compared with which
// reference, one tensor in memory at a time. Drives weight_stats() for `glassbox weights` (and
// anything else that wants every tensor's statistics, e.g. the viewer).
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "analysis/weight_stats.h"
#include "io/tensor_table.h"

namespace gb {

struct WeightInspectionOptions {
  // Tensor names to inspect, in the name-pattern syntax (observe/name_pattern.h), several
  // separated by commas; empty: every tensor. Each pattern must match some tensor.
  std::string filter = {};
  // A model path (same kinds as the model) with the unquantized weights under the same tensor
  // names, e.g. the f32 or f16 GGUF a quantized GGUF was made from; empty: none.
  std::string reference = {};
  WeightStatsOptions stats = {};
};

// One tensor's result. `values` (its dequantised values) is only valid during the callback.
struct InspectedTensor {
  const WeightStats& stats;
  std::span<const float> values;
  size_t index = 0;  // 0-based position among the selected tensors
  size_t count = 0;  // number of selected tensors
};

class WeightInspection {
 public:
  // Opens the model (and reference) and selects the tensors. Throws gb::Error for unreadable
  // files, gb::UsageError for a filter that matches nothing, and gb::Error when the reference
  // shares no tensor name with the selection or has a tensor of another shape.
  WeightInspection(const std::string& model_path, WeightInspectionOptions options);

  // The selected tensors in natural name order (layer 2 before layer 10).
  const std::vector<const io::TensorRef*>& selected() const { return selected_; }

  // Computes every selected tensor's statistics in order and calls `visit` for each; the values
  // are released before the next tensor is read.
  void run(const std::function<void(const InspectedTensor&)>& visit) const;

 private:
  WeightInspectionOptions options_;
  io::TensorTable model_;
  io::TensorTable reference_;
  std::vector<const io::TensorRef*> selected_;
};

// a < b comparing runs of digits as numbers: "blk.2.x" < "blk.10.x".
bool natural_less(const std::string& a, const std::string& b);

}  // namespace gb
