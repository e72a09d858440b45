#include "io/tensor_table.h"

#include "core/error.h"

namespace gb::io {

int64_t TensorRef::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::string TensorRef::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

void TensorTable::add(TensorRef t) {
  std::string name = t.name;
  if (!tensors_.emplace(name, std::move(t)).second) fail("duplicate tensor ", name);
}

const TensorRef* TensorTable::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const TensorRef& TensorTable::get(const std::string& name, const std::string& origin) const {
  const TensorRef* t = find(name);
  if (!t) fail(origin, ": missing tensor ", name);
  if (!t->supported)
    fail(t->file, ": tensor ", t->display_name(), ": dtype ", t->dtype_label, " is not supported");
  return *t;
}

}  // namespace gb::io
