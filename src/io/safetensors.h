// Hugging Face safetensors checkpoints: one model.safetensors, or shards listed in
// model.safetensors.index.json. Tensors stay memory-mapped.
//
// File layout: u64 little-endian header size N, N bytes of JSON
// {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data; offsets are relative to the end of the header.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "io/tensor_table.h"

namespace gb::io {

// Adds every tensor of one .safetensors file to `table`. Throws gb::Error naming the file.
void read_safetensors(const std::string& path, TensorTable& table);

// Reads a checkpoint folder: model.safetensors.index.json (sharded) or model.safetensors.
TensorTable read_safetensors_checkpoint(const std::string& dir);

// One f32 tensor to write.
struct SafetensorsEntry {
  std::string name;
  std::vector<int64_t> shape;
  const float* data = nullptr;
};

// Writes F32 tensors (in the order given) and string metadata, via a temporary file renamed
// into place.
void write_safetensors(const std::string& path, const std::vector<SafetensorsEntry>& entries,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace gb::io
