// GGUF v3 writing: metadata in insertion order, tensor infos, aligned tensor data.
#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/gguf.h"

namespace gb::io {
namespace {

uint32_t ggml_type_id(DType t) {
  switch (t) {
    case DType::F32:
      return 0;
    case DType::F16:
      return 1;
    case DType::Q4_0:
      return 2;
    case DType::Q8_0:
      return 8;
    case DType::I32:
      return 26;
    case DType::BF16:
      return 30;
  }
  return 0;
}

class Out {
 public:
  explicit Out(std::ofstream& f) : f_(f) {}
  template <typename T>
  void put(T v) {
    f_.write(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    f_.write(s.data(), std::streamsize(s.size()));
  }
  void value(const GgufValue& v) {
    switch (v.type) {
      case GgufType::U8:
        put<uint8_t>(uint8_t(v.as_int()));
        break;
      case GgufType::I8:
        put<int8_t>(int8_t(v.as_int()));
        break;
      case GgufType::U16:
        put<uint16_t>(uint16_t(v.as_int()));
        break;
      case GgufType::I16:
        put<int16_t>(int16_t(v.as_int()));
        break;
      case GgufType::U32:
        put<uint32_t>(uint32_t(v.as_int()));
        break;
      case GgufType::I32:
        put<int32_t>(int32_t(v.as_int()));
        break;
      case GgufType::U64:
        put<uint64_t>(std::get<uint64_t>(v.value));
        break;
      case GgufType::I64:
        put<int64_t>(v.as_int());
        break;
      case GgufType::F32:
        put<float>(float(v.as_float()));
        break;
      case GgufType::F64:
        put<double>(v.as_float());
        break;
      case GgufType::BOOL:
        put<uint8_t>(v.as_bool() ? 1 : 0);
        break;
      case GgufType::STRING:
        str(v.as_string());
        break;
      case GgufType::ARRAY: {
        const GgufArray& a = v.as_array();
        put<uint32_t>(uint32_t(a.type));
        put<uint64_t>(a.items.size());
        for (const auto& item : a.items) value(item);
        break;
      }
    }
  }
  void pad_to(uint64_t alignment) {
    const uint64_t pos = uint64_t(f_.tellp());
    static const char zeros[64] = {};
    for (uint64_t n = (alignment - pos % alignment) % alignment; n > 0;) {
      const uint64_t k = std::min<uint64_t>(n, sizeof(zeros));
      f_.write(zeros, std::streamsize(k));
      n -= k;
    }
  }

 private:
  std::ofstream& f_;
};

}  // namespace

GgufWriter::GgufWriter(std::string path, uint32_t alignment)
    : path_(std::move(path)), alignment_(alignment) {
  if (alignment_ != 32) set("general.alignment", GgufValue::u32(alignment_));
}

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : metadata_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  metadata_.emplace_back(key, std::move(value));
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, DType dtype,
                            const void* data) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  const size_t bytes = dtype_bytes(dtype, n);
  add_tensor(name, std::move(shape), dtype,
             [data, bytes](void* dst) { std::memcpy(dst, data, bytes); });
}

void GgufWriter::add_tensor(const std::string& name, std::vector<int64_t> shape, DType dtype,
                            Fill fill) {
  if (shape.empty() || shape.size() > 4) fail(path_, ": tensor ", name, ": rank ", shape.size());
  if (shape.back() % dtype_block_size(dtype) != 0)
    fail(path_, ": tensor ", name, ": row of ", shape.back(), " elements is not a whole number of ",
         dtype_name(dtype), " blocks");
  tensors_.push_back({name, std::move(shape), dtype, std::move(fill)});
}

void GgufWriter::write() {
  AtomicFile file(path_);
  std::ofstream& f = file.stream();
  Out out(f);
  out.put<uint32_t>(0x46554747);
  out.put<uint32_t>(3);
  out.put<uint64_t>(tensors_.size());
  out.put<uint64_t>(metadata_.size());
  for (const auto& [key, value] : metadata_) {
    out.str(key);
    out.put<uint32_t>(uint32_t(value.type));
    out.value(value);
  }
  uint64_t offset = 0;
  std::vector<size_t> sizes;
  for (const auto& t : tensors_) {
    out.str(t.name);
    out.put<uint32_t>(uint32_t(t.shape.size()));
    int64_t numel = 1;
    for (auto it = t.shape.rbegin(); it != t.shape.rend(); ++it) {
      out.put<uint64_t>(uint64_t(*it));
      numel *= *it;
    }
    out.put<uint32_t>(ggml_type_id(t.dtype));
    out.put<uint64_t>(offset);
    sizes.push_back(dtype_bytes(t.dtype, numel));
    offset += (sizes.back() + alignment_ - 1) / alignment_ * alignment_;
  }
  out.pad_to(alignment_);
  for (size_t i = 0; i < tensors_.size(); ++i) {
    std::vector<char> buf(sizes[i]);
    tensors_[i].fill(buf.data());  // a throw leaves no file behind (AtomicFile)
    f.write(buf.data(), std::streamsize(sizes[i]));
    out.pad_to(alignment_);
  }
  file.commit();
}

}  // namespace gb::io
