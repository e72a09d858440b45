// TensorTable: the named tensors of a model file (GGUF) or checkpoint (safetensors shards), as
// typed views into memory-mapped data. Model loaders bind weights from it by name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "io/mapped_file.h"

namespace gb::io {

struct TensorRef {
  std::string name;
  std::string source_name;     // its name inside the file when loading renamed it, else empty
  std::string file;            // the file it lives in (for error messages)
  const void* data = nullptr;  // inside a mapping held by the table
  DType dtype = DType::F32;
  std::string dtype_label;     // as the file names it ("f32", "BF16", "I64", ...)
  bool supported = true;       // false: a dtype glassbox cannot compute with (error on use)
  std::vector<int64_t> shape;  // row-major
  size_t bytes = 0;

  int64_t numel() const;
  const std::string& display_name() const { return source_name.empty() ? name : source_name; }
  std::string shape_str() const;  // "[768, 2304]"
};

class TensorTable {
 public:
  void add(TensorRef t);  // throws on a duplicate name
  void hold(std::shared_ptr<MappedFile> f) { files_.push_back(std::move(f)); }
  // Keeps a buffer alive with the table (tensors converted at load point into it).
  void hold(std::shared_ptr<const std::vector<float>> buffer) {
    buffers_.push_back(std::move(buffer));
  }

  const TensorRef* find(const std::string& name) const;
  // Throws "<file>: missing tensor <name>" naming `origin` when absent, or if its dtype is one
  // glassbox cannot use.
  const TensorRef& get(const std::string& name, const std::string& origin) const;
  const std::map<std::string, TensorRef>& all() const { return tensors_; }
  const std::vector<std::shared_ptr<MappedFile>>& files() const { return files_; }

 private:
  std::map<std::string, TensorRef> tensors_;
  std::vector<std::shared_ptr<MappedFile>> files_;
  std::vector<std::shared_ptr<const std::vector<float>>> buffers_;
};

}  // namespace gb::io
