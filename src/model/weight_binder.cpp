#include "model/weight_binder.h"

#include "core/error.h"

namespace gb {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

const io::TensorRef& WeightBinder::get(const std::string& name, std::vector<int64_t> expect) const {
  const io::TensorRef& t = table_.get(name, origin_);
  if (t.shape != expect)
    fail(t.file, ": tensor ", t.display_name(), ": shape ", t.shape_str(),
         " contradicts the config (expected ", shape_str(expect), ")");
  if (t.dtype == DType::I32)
    fail(t.file, ": tensor ", t.display_name(), ": integer tensors cannot be weights");
  return t;
}

WeightMatrix WeightBinder::matrix(const std::string& name, int64_t rows, int64_t cols) const {
  const io::TensorRef& t = get(name, {rows, cols});
  return {t.data, t.dtype, rows, cols};
}

std::span<const float> WeightBinder::vector(const std::string& name, int64_t n) const {
  const io::TensorRef& t = get(name, {n});
  std::vector<float>& dst = own_(size_t(n));
  dequantize_row(t.dtype, t.data, dst.data(), n);
  return dst;
}

std::span<const float> WeightBinder::optional_vector(const std::string& name, int64_t n) const {
  return has(name) ? vector(name, n) : std::span<const float>();
}

}  // namespace gb
