#include "core/tensor.h"

#include "core/error.h"

namespace gb {

Shape::Shape(std::initializer_list<int64_t> d)
    : Shape(std::span<const int64_t>(d.begin(), d.size())) {}

Shape::Shape(std::span<const int64_t> d) {
  if (d.size() > size_t(kMaxDims)) fail("tensor rank ", d.size(), " exceeds ", kMaxDims);
  rank = int(d.size());
  for (int i = 0; i < rank; ++i) {
    if (d[i] < 0) fail("negative dimension ", d[i]);
    dims[i] = d[i];
  }
}

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int i = 0; i < rank; ++i) n *= dims[i];
  return n;
}

bool Shape::operator==(const Shape& o) const {
  if (rank != o.rank) return false;
  for (int i = 0; i < rank; ++i)
    if (dims[i] != o.dims[i]) return false;
  return true;
}

std::string Shape::str() const {
  std::string s = "[";
  for (int i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

Tensor::Tensor(Shape shape, float fill) : shape_(shape), values_(size_t(shape.numel()), fill) {}

Tensor::Tensor(Shape shape, std::vector<float> values) : shape_(shape), values_(std::move(values)) {
  if (int64_t(values_.size()) != shape_.numel())
    fail("tensor of shape ", shape_.str(), " given ", values_.size(), " values");
}

void Tensor::reshape(Shape shape) {
  if (shape.numel() != numel()) fail("cannot reshape ", shape_.str(), " to ", shape.str());
  shape_ = shape;
}

float Tensor::at(std::initializer_list<int64_t> index) const {
  if (int(index.size()) != shape_.rank)
    fail("index of rank ", index.size(), " into ", shape_.str());
  int64_t flat = 0;
  int i = 0;
  for (int64_t x : index) {
    if (x < 0 || x >= shape_[i])
      fail("index ", x, " out of range for dim ", i, " of ", shape_.str());
    flat = flat * shape_[i] + x;
    ++i;
  }
  return values_[size_t(flat)];
}

}  // namespace gb
