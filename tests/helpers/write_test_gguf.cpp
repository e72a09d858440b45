// Test-only program: writes a GGUF file whose tensors come from .npy files (f32), each stored in
// the dtype asked for (converted or quantized by gb::quantize_row, i.e. the way glassbox itself
// quantizes). tests/reference/test_weights.py builds its model files with it and reads them
// back with its own GGUF parser. Not installed; not part of the glassbox CLI.
//
//   write_test_gguf SPEC.json
//
//   {"out": "model.gguf",
//    "tensors": [{"name": "blk.0.attn_q.weight", "dtype": "q8_0", "npy": "x.npy"}, ...]}
//
// dtype: f32, f16, bf16, q8_0 or q4_0 (quantized tensors need rows of a multiple of 32 values).
// An error prints `write_test_gguf: error: <message>` on stderr, exit 1.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "io/gguf.h"
#include "io/npy.h"

namespace {

using nlohmann::json;

int run(const std::string& spec_path) {
  std::ifstream in(spec_path);
  if (!in) gb::fail("cannot read ", spec_path);
  const json spec = json::parse(in);
  gb::io::GgufWriter writer(spec["out"].get<std::string>());
  writer.set("general.name", gb::io::GgufValue::string("glassbox weights test"));
  std::vector<std::vector<uint8_t>> storage;  // kept alive until write()
  for (const json& t : spec["tensors"]) {
    const std::string name = t["name"];
    gb::DType dtype;
    if (!gb::dtype_from_name(t["dtype"].get<std::string>(), dtype))
      gb::fail(name, ": unknown dtype ", t["dtype"].dump());
    const gb::io::NpyArray a = gb::io::read_npy(t["npy"].get<std::string>());
    if (a.f32.empty()) gb::fail(name, ": the .npy must hold floats");
    const int64_t n = int64_t(a.f32.size());
    if (n % gb::dtype_block_size(dtype) != 0 ||
        (!a.shape.empty() && a.shape.back() % gb::dtype_block_size(dtype) != 0))
      gb::fail(name, ": rows must be whole blocks of ", gb::dtype_block_size(dtype));
    storage.emplace_back(gb::dtype_bytes(dtype, n));
    gb::quantize_row(dtype, a.f32.data(), storage.back().data(), n);
    writer.add_tensor(name, a.shape, dtype, storage.back().data());
  }
  writer.write();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_test_gguf SPEC.json\n");
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "write_test_gguf: error: %s\n", e.what());
    return 1;
  }
}
