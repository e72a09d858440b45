#include "io/safetensors.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "io/atomic_file.h"

namespace gb::io {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxHeader = uint64_t(100) << 20;

// Returns false for dtypes glassbox does not compute with (the tensor is listed but unusable).
bool dtype_from_safetensors(const std::string& s, DType& out, size_t& elem_bytes) {
  static const std::map<std::string, size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2},    {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},      {"BOOL", 1},
      {"U16", 2}, {"U32", 4}, {"U64", 8}, {"F8_E4M3", 1}, {"F8_E5M2", 1}};
  auto it = sizes.find(s);
  if (it == sizes.end()) return false;
  elem_bytes = it->second;
  if (s == "F32")
    out = DType::F32;
  else if (s == "F16")
    out = DType::F16;
  else if (s == "BF16")
    out = DType::BF16;
  else if (s == "I32")
    out = DType::I32;
  else
    return false;
  return true;
}

// One header entry -> TensorRef, checked against the data section [data, data + data_size).
TensorRef parse_entry(const std::string& name, const json& info, const std::string& path,
                      const uint8_t* data, uint64_t data_size) {
  if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") ||
      !info.contains("data_offsets"))
    fail("entry lacks dtype, shape or data_offsets");
  TensorRef t;
  t.name = name;
  t.file = path;
  t.dtype_label = info["dtype"].get<std::string>();
  size_t elem_bytes = 0;
  t.supported = dtype_from_safetensors(t.dtype_label, t.dtype, elem_bytes);
  if (elem_bytes == 0) fail("unknown dtype ", t.dtype_label);
  int64_t numel = 1;
  for (const auto& d : info["shape"]) {
    const int64_t v = d.get<int64_t>();
    if (v < 0 || v > (int64_t(1) << 40) || __builtin_mul_overflow(numel, v, &numel))
      fail("invalid dimension ", v);
    t.shape.push_back(v);
  }
  const auto& offs = info["data_offsets"];
  if (!offs.is_array() || offs.size() != 2) fail("data_offsets must be [begin, end]");
  const uint64_t begin = offs[0].get<uint64_t>(), end = offs[1].get<uint64_t>();
  if (begin > end || end > data_size) fail("data ends past end of file");
  if (end - begin != uint64_t(numel) * elem_bytes)
    fail("data size ", end - begin, " does not match shape ", t.shape_str(), " of ", t.dtype_label);
  t.bytes = size_t(end - begin);
  t.data = data + begin;
  return t;
}

}  // namespace

void read_safetensors(const std::string& path, TensorTable& table) {
  auto file = MappedFile::open(path);
  ByteReader in(file->data(), file->size(), path);
  const uint64_t n = in.read<uint64_t>("header size");
  if (n > kMaxHeader) fail(path, ": header size ", n, " is implausible (not a safetensors file?)");
  const std::string text = in.read_bytes(size_t(n), "header");
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, ": header is not valid JSON: ", e.what());
  }
  if (!header.is_object()) fail(path, ": header is not a JSON object");
  const uint64_t data_begin = 8 + n, data_size = file->size() - data_begin;

  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") continue;
    with_context(path + ": tensor " + name, [&] {
      try {
        table.add(parse_entry(name, info, path, file->data() + data_begin, data_size));
      } catch (const json::exception& e) {
        fail("malformed header entry (", e.what(), ")");
      }
    });
  }
  table.hold(std::move(file));
}

void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& e : entries) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    header[e.name] = {
        {"dtype", "F32"}, {"shape", e.shape}, {"data_offsets", {offset, offset + uint64_t(n) * 4}}};
    offset += uint64_t(n) * 4;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  AtomicFile f(path);
  const uint64_t n = text.size();
  f.write(&n, 8);
  f.write(text.data(), text.size());
  for (const auto& e : entries) {
    int64_t count = 1;
    for (int64_t d : e.shape) count *= d;
    f.write(e.data, size_t(count) * 4);
  }
  f.commit();
}

TensorTable read_safetensors_checkpoint(const std::string& dir) {
  TensorTable table;
  const fs::path index = fs::path(dir) / "model.safetensors.index.json";
  const fs::path single = fs::path(dir) / "model.safetensors";
  if (fs::exists(index)) {
    json j;
    try {
      std::ifstream f(index);
      j = json::parse(f);
    } catch (const json::exception& e) {
      fail(index.string(), ": not valid JSON: ", e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
      fail(index.string(), ": no weight_map object");
    std::set<std::string> shards;
    for (const auto& [name, shard] : j["weight_map"].items()) {
      if (!shard.is_string())
        fail(index.string(), ": weight_map entry ", name, " is not a file name");
      const std::string s = shard.get<std::string>();
      if (s.find('/') != std::string::npos || s == "..")
        fail(index.string(), ": shard name ", s, " must be a file in the checkpoint folder");
      shards.insert(s);
    }
    for (const auto& s : shards) read_safetensors((fs::path(dir) / s).string(), table);
    for (const auto& [name, shard] : j["weight_map"].items()) {
      const TensorRef* t = table.find(name);
      if (!t) fail(index.string(), ": tensor ", name, " is not in ", shard.get<std::string>());
    }
  } else if (fs::exists(single)) {
    read_safetensors(single.string(), table);
  } else {
    fail(dir, ": no model.safetensors or model.safetensors.index.json");
  }
  return table;
}

}  // namespace gb::io
