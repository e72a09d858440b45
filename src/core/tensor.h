// Tensors: a shape, and either a non-owning view of f32 data (TensorView) or an owning f32 buffer
// (Tensor). Row-major, contiguous. Weights in other dtypes are described by io::TensorInfo /
// model::Weight instead; activations are always f32.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace gb {

// Up to 4 dimensions, row-major, e.g. [b, n_heads, q_pos, k_pos].
struct Shape {
  static constexpr int kMaxDims = 4;
  int64_t dims[kMaxDims] = {0, 0, 0, 0};
  int rank = 0;

  Shape() = default;
  Shape(std::initializer_list<int64_t> d);
  explicit Shape(std::span<const int64_t> d);

  int64_t operator[](int i) const { return dims[i]; }
  int64_t& operator[](int i) { return dims[i]; }
  int64_t numel() const;
  std::vector<int64_t> to_vector() const { return {dims, dims + rank}; }
  bool operator==(const Shape& o) const;
  std::string str() const;  // "[1, 7, 64]"
};

// A mutable, non-owning view of contiguous f32 data. Hooks receive these: an intervention may
// write through the view and the forward pass continues with the changed values.
struct TensorView {
  float* data = nullptr;
  Shape shape;

  int64_t numel() const { return shape.numel(); }
  std::span<float> span() const { return {data, size_t(numel())}; }
};

// An owning f32 tensor.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Shape shape, float fill = 0.0f);
  Tensor(Shape shape, std::vector<float> values);  // values.size() must equal shape.numel()

  const Shape& shape() const { return shape_; }
  int64_t numel() const { return int64_t(values_.size()); }
  float* data() { return values_.data(); }
  const float* data() const { return values_.data(); }
  std::vector<float>& values() { return values_; }
  const std::vector<float>& values() const { return values_; }
  TensorView view() { return {values_.data(), shape_}; }
  // Changes the shape without moving data (numel must stay the same).
  void reshape(Shape shape);
  // Element access by full index, e.g. t.at({0, 3, 1}).
  float at(std::initializer_list<int64_t> index) const;

 private:
  Shape shape_;
  std::vector<float> values_;
};

}  // namespace gb
