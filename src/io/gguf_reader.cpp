// GGUF parsing: header, metadata values (incl. nested arrays), tensor infos, data bounds.
#include <algorithm>
#include <bit>

#include "core/error.h"
#include "io/gguf.h"

namespace gb::io {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;
constexpr uint32_t kMaxDims = 4;

// ggml tensor type ids for the dtypes glassbox runs.
bool dtype_from_ggml(uint32_t id, DType& out) {
  switch (id) {
    case 0:
      out = DType::F32;
      return true;
    case 1:
      out = DType::F16;
      return true;
    case 2:
      out = DType::Q4_0;
      return true;
    case 8:
      out = DType::Q8_0;
      return true;
    case 26:
      out = DType::I32;
      return true;
    case 30:
      out = DType::BF16;
      return true;
    default:
      return false;
  }
}

const char* ggml_type_name(uint32_t id) {
  static const char* names[] = {"f32",   "f16",   "q4_0",    "q4_1",   "q4_2",    "q4_3",  "q5_0",
                                "q5_1",  "q8_0",  "q8_1",    "q2_k",   "q3_k",    "q4_k",  "q5_k",
                                "q6_k",  "q8_k",  "iq2_xxs", "iq2_xs", "iq3_xxs", "iq1_s", "iq4_nl",
                                "iq3_s", "iq2_s", "iq4_xs",  "i8",     "i16",     "i32",   "i64",
                                "f64",   "iq1_m", "bf16"};
  return id < std::size(names) ? names[id] : nullptr;
}

// Smallest encoded size of one value of type t, so element counts can be checked against the
// bytes left before anything is allocated.
size_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
    case GgufType::STRING:
      return 8;
    case GgufType::ARRAY:
      return 12;
  }
  return 1;
}

class Parser {
 public:
  Parser(ByteReader& in) : in_(in) {}

  std::string string(const char* what) {
    const uint64_t n = in_.read<uint64_t>(what);
    in_.require(n, what);
    return in_.read_bytes(size_t(n), what);
  }

  GgufType type(const std::string& key) {
    const uint32_t t = in_.read<uint32_t>("metadata type");
    if (t > uint32_t(GgufType::F64))
      fail(in_.path(), ": metadata ", key, ": unknown value type ", t);
    return GgufType(t);
  }

  GgufValue value(GgufType t, const std::string& key, int depth) {
    switch (t) {
      case GgufType::U8:
        return {t, uint64_t(in_.read<uint8_t>("metadata value"))};
      case GgufType::I8:
        return {t, int64_t(in_.read<int8_t>("metadata value"))};
      case GgufType::U16:
        return {t, uint64_t(in_.read<uint16_t>("metadata value"))};
      case GgufType::I16:
        return {t, int64_t(in_.read<int16_t>("metadata value"))};
      case GgufType::U32:
        return {t, uint64_t(in_.read<uint32_t>("metadata value"))};
      case GgufType::I32:
        return {t, int64_t(in_.read<int32_t>("metadata value"))};
      case GgufType::U64:
        return {t, in_.read<uint64_t>("metadata value")};
      case GgufType::I64:
        return {t, in_.read<int64_t>("metadata value")};
      case GgufType::F32:
        return {t, double(in_.read<float>("metadata value"))};
      case GgufType::F64:
        return {t, in_.read<double>("metadata value")};
      case GgufType::BOOL: {
        const uint8_t b = in_.read<uint8_t>("metadata value");
        if (b > 1) fail(in_.path(), ": metadata ", key, ": bool value ", int(b), " is not 0 or 1");
        return {t, b == 1};
      }
      case GgufType::STRING:
        return {t, string("metadata string")};
      case GgufType::ARRAY:
        return array(key, depth);
    }
    fail(in_.path(), ": metadata ", key, ": unknown value type");
  }

  GgufValue array(const std::string& key, int depth) {
    if (depth >= kMaxArrayDepth) fail(in_.path(), ": metadata ", key, ": arrays nested too deep");
    GgufArray a;
    a.type = type(key);
    const uint64_t n = in_.read<uint64_t>("array length");
    if (n > in_.remaining() / min_value_bytes(a.type))
      fail(in_.path(), ": metadata ", key, ": array of ", n, " items is longer than the file");
    a.items.reserve(size_t(n));
    for (uint64_t i = 0; i < n; ++i) a.items.push_back(value(a.type, key, depth + 1));
    return {GgufType::ARRAY, std::move(a)};
  }

 private:
  ByteReader& in_;
};

}  // namespace

GgufFile GgufFile::open(const std::string& path) {
  GgufFile f;
  f.path_ = path;
  f.file_ = MappedFile::open(path);
  ByteReader in(f.file_->data(), f.file_->size(), path);
  Parser parse(in);

  if (f.file_->size() < 4 || in.read<uint32_t>("magic") != kMagic)
    fail(path, ": not a GGUF file (wrong magic)");
  f.version_ = in.read<uint32_t>("version");
  if (f.version_ != 2 && f.version_ != 3)
    fail(path, ": unsupported GGUF version ", f.version_, " (glassbox reads versions 2 and 3)");
  const uint64_t n_tensors = in.read<uint64_t>("tensor count");
  const uint64_t n_kv = in.read<uint64_t>("metadata count");
  if (n_kv > in.remaining() / 12)
    fail(path, ": header claims ", n_kv,
         " metadata entries, more than the file holds (truncated?)");
  if (n_tensors > in.remaining() / 24)
    fail(path, ": header claims ", n_tensors, " tensors, more than the file holds (truncated?)");

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = parse.string("metadata key");
    const GgufType t = parse.type(key);
    GgufValue v = parse.value(t, key, 0);
    if (!f.metadata_.emplace(key, std::move(v)).second)
      fail(path, ": duplicate metadata key ", key);
  }

  uint32_t alignment = 32;
  if (const GgufValue* a = f.find("general.alignment")) {
    const int64_t v = a->as_int();
    if (v <= 0 || v > (1 << 20) || !std::has_single_bit(uint64_t(v)))
      fail(path, ": general.alignment ", v, " is not a power of two");
    alignment = uint32_t(v);
  }

  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo t;
    t.name = parse.string("tensor name");
    const uint32_t n_dims = in.read<uint32_t>("tensor dimension count");
    if (n_dims == 0 || n_dims > kMaxDims)
      fail(path, ": tensor ", t.name, ": ", n_dims, " dimensions");
    std::vector<int64_t> ne(n_dims);
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t v = in.read<uint64_t>("tensor dimension");
      if (v == 0 || v > (uint64_t(1) << 40) || __builtin_mul_overflow(numel, int64_t(v), &numel) ||
          numel > (int64_t(1) << 46))
        fail(path, ": tensor ", t.name, ": invalid dimension ", v);
      ne[d] = int64_t(v);
    }
    t.shape.assign(ne.rbegin(), ne.rend());
    const uint32_t type = in.read<uint32_t>("tensor type");
    if (!dtype_from_ggml(type, t.dtype)) {
      const char* name = ggml_type_name(type);
      if (name) fail(path, ": tensor ", t.name, ": tensor type ", name, " is not supported");
      fail(path, ": tensor ", t.name, ": unknown tensor type ", type);
    }
    if (ne[0] % dtype_block_size(t.dtype) != 0)
      fail(path, ": tensor ", t.name, ": row of ", ne[0], " elements is not a whole number of ",
           dtype_name(t.dtype), " blocks");
    t.offset = in.read<uint64_t>("tensor offset");
    if (t.offset % alignment != 0)
      fail(path, ": tensor ", t.name, ": offset ", t.offset, " is not aligned to ", alignment);
    t.bytes = dtype_bytes(t.dtype, numel);
    if (f.tensor_index_.count(t.name)) fail(path, ": duplicate tensor ", t.name);
    f.tensor_index_[t.name] = f.tensors_.size();
    f.tensors_.push_back(std::move(t));
  }

  f.data_offset_ = (in.offset() + alignment - 1) / alignment * alignment;
  const uint64_t size = f.file_->size();
  for (const auto& t : f.tensors_) {
    if (f.data_offset_ > size || t.offset > size - f.data_offset_ ||
        t.bytes > size - f.data_offset_ - t.offset)
      fail(path, ": tensor ", t.name, ": data ends past end of file");
  }
  return f;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufValue& GgufFile::at(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) fail(path_, ": missing metadata ", key);
  return *v;
}

std::optional<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return with_context(path_ + ": metadata " + key, [&] { return v->as_int(); });
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return with_context(path_ + ": metadata " + key, [&] { return v->as_float(); });
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return with_context(path_ + ": metadata " + key, [&] { return v->as_bool(); });
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return std::nullopt;
  return with_context(path_ + ": metadata " + key, [&] { return v->as_string(); });
}

std::vector<std::string> GgufFile::get_strings(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return {};
  return with_context(path_ + ": metadata " + key, [&] {
    std::vector<std::string> out;
    for (const auto& item : v->as_array().items) out.push_back(item.as_string());
    return out;
  });
}

std::vector<float> GgufFile::get_floats(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return {};
  return with_context(path_ + ": metadata " + key, [&] {
    std::vector<float> out;
    for (const auto& item : v->as_array().items) out.push_back(float(item.as_float()));
    return out;
  });
}

std::vector<int32_t> GgufFile::get_ints(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return {};
  return with_context(path_ + ": metadata " + key, [&] {
    std::vector<int32_t> out;
    for (const auto& item : v->as_array().items) out.push_back(int32_t(item.as_int()));
    return out;
  });
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const void* GgufFile::tensor_data(const GgufTensorInfo& t) const {
  return file_->data() + data_offset_ + t.offset;
}

TensorTable GgufFile::tensor_table() const {
  TensorTable table;
  for (const auto& t : tensors_) {
    table.add({.name = t.name,
               .source_name = {},
               .file = path_,
               .data = tensor_data(t),
               .dtype = t.dtype,
               .dtype_label = std::string(dtype_name(t.dtype)),
               .supported = true,
               .shape = t.shape,
               .bytes = t.bytes});
  }
  table.hold(file_);
  return table;
}

}  // namespace gb::io
