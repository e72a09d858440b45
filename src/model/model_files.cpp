#include "model/model_files.h"

#include <filesystem>

#include "core/error.h"
#include "io/gguf.h"
#include "io/safetensors.h"

namespace gb {

io::TensorTable read_model_tensors(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(path, ": no such file or directory");
  if (fs::is_directory(path, ec)) {
    if (!fs::exists(fs::path(path) / "config.json", ec))
      fail(path, ": not a model file or checkpoint folder (no config.json)");
    return io::read_safetensors_checkpoint(path);
  }
  if (fs::path(path).extension() == ".safetensors") {
    io::TensorTable table;
    io::read_safetensors(path, table);
    return table;
  }
  return io::GgufFile::open(path).tensor_table();
}

}  // namespace gb
