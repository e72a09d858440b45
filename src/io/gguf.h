// GGUF files (versions 2 and 3): reading with memory-mapped tensor data, and writing.
//
// Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, metadata key/values,
// tensor infos (name, n_dims, dims (innermost first), ggml type, offset), padding to
// `general.alignment` (default 32), tensor data. Every offset and size is bounds-checked against
// the file; a malformed file raises gb::Error naming the file and the item.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/dtype.h"
#include "core/matrix.h"
#include "io/mapped_file.h"
#include "io/tensor_table.h"

namespace gb::io {

// GGUF metadata value types (numbering from the GGUF specification).
enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};

struct GgufValue;
struct GgufArray {
  GgufType type = GgufType::U8;  // element type; ARRAY for nested arrays
  std::vector<GgufValue> items;
};

// One metadata value. Integers are widened to int64/uint64, floats to double, but the original
// type is kept (`type`) so that a file written back is identical.
struct GgufValue {
  GgufType type = GgufType::U8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> value;

  static GgufValue u32(uint32_t v) { return {GgufType::U32, uint64_t(v)}; }
  static GgufValue i32(int32_t v) { return {GgufType::I32, int64_t(v)}; }
  static GgufValue u64(uint64_t v) { return {GgufType::U64, v}; }
  static GgufValue f32(float v) { return {GgufType::F32, double(v)}; }
  static GgufValue boolean(bool v) { return {GgufType::BOOL, v}; }
  static GgufValue string(std::string v) { return {GgufType::STRING, std::move(v)}; }
  static GgufValue strings(const std::vector<std::string>& v);
  static GgufValue f32s(const std::vector<float>& v);
  static GgufValue i32s(const std::vector<int32_t>& v);

  // Typed reads; throw gb::Error if the value has another kind.
  int64_t as_int() const;   // any integer type (or bool)
  double as_float() const;  // any numeric type
  bool as_bool() const;
  const std::string& as_string() const;
  const GgufArray& as_array() const;
};

// A tensor as described in the file.
struct GgufTensorInfo {
  std::string name;
  std::vector<int64_t> shape;  // row-major (outermost first), i.e. the reverse of GGUF's ne[]
  DType dtype = DType::F32;
  uint64_t offset = 0;  // from the start of the data section
  size_t bytes = 0;
};

class GgufFile {
 public:
  // Maps the file and parses header, metadata and tensor infos. Throws gb::Error.
  static GgufFile open(const std::string& path);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  const GgufValue* find(const std::string& key) const;  // nullptr if absent
  const GgufValue& at(const std::string& key) const;    // throws "<path>: missing metadata <key>"
  // Convenience readers for common metadata (throw with the file and key named on mismatch).
  std::optional<int64_t> get_int(const std::string& key) const;
  std::optional<double> get_float(const std::string& key) const;
  std::optional<bool> get_bool(const std::string& key) const;
  std::optional<std::string> get_string(const std::string& key) const;
  std::vector<std::string> get_strings(const std::string& key) const;  // empty if absent
  std::vector<float> get_floats(const std::string& key) const;         // empty if absent
  std::vector<int32_t> get_ints(const std::string& key) const;         // empty if absent

  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // Pointer to a tensor's bytes inside the mapping (valid while this object lives).
  const void* tensor_data(const GgufTensorInfo& t) const;
  // The mapping that tensor data points into; hold it to keep the data alive.
  std::shared_ptr<MappedFile> mapping() const { return file_; }
  // Every tensor as a TensorRef (the table holds the mapping).
  TensorTable tensor_table() const;

 private:
  std::string path_;
  uint32_t version_ = 0;
  std::map<std::string, GgufValue> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  std::shared_ptr<MappedFile> file_;
  uint64_t data_offset_ = 0;
};

// Writes a GGUF v3 file: metadata in insertion order, then tensors aligned to `alignment`.
// Data is written to `<path>.partial.<pid>.<n>` and renamed on success, so a failed write never leaves a
// complete-looking file.
class GgufWriter {
 public:
  explicit GgufWriter(std::string path, uint32_t alignment = 32);
  void set(const std::string& key, GgufValue value);
  // `shape` is row-major; `data` holds dtype_bytes(dtype, numel) bytes, copied at write time.
  void add_tensor(const std::string& name, std::vector<int64_t> shape, DType dtype,
                  const void* data);
  // A tensor whose bytes are produced at write time by fill(dst) (dst holds dtype_bytes(...)),
  // one tensor at a time, so converting a model needs memory for one tensor only.
  using Fill = std::function<void(void* dst)>;
  void add_tensor(const std::string& name, std::vector<int64_t> shape, DType dtype, Fill fill);
  void write();

 private:
  struct PendingTensor {
    std::string name;
    std::vector<int64_t> shape;
    DType dtype;
    Fill fill;
  };
  std::string path_;
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace gb::io
