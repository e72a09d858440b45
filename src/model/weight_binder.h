// Looks weights up by name in a TensorTable and checks them against the config's shapes.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/matrix.h"
#include "io/tensor_table.h"

namespace gb {

class WeightBinder {
 public:
  // own(n): storage for n floats that lives as long as the model.
  using Allocate = std::function<std::vector<float>&(size_t n)>;
  WeightBinder(const io::TensorTable& table, std::string origin, Allocate own)
      : table_(table), origin_(std::move(origin)), own_(std::move(own)) {}

  bool has(const std::string& name) const { return table_.find(name) != nullptr; }
  // A [rows, cols] matrix used in place from the mapping.
  WeightMatrix matrix(const std::string& name, int64_t rows, int64_t cols) const;
  // A 1-D tensor of n values (norm weights, biases) as owned f32.
  std::span<const float> vector(const std::string& name, int64_t n) const;
  // As vector(), or empty when the file has no such tensor.
  std::span<const float> optional_vector(const std::string& name, int64_t n) const;

 private:
  const io::TensorRef& get(const std::string& name, std::vector<int64_t> expect) const;

  const io::TensorTable& table_;
  std::string origin_;
  Allocate own_;
};

}  // namespace gb
