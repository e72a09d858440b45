// NumPy .npy files (format version 1.0): little-endian f32 or i32 arrays, C order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb::io {

struct NpyArray {
  std::string dtype;  // "<f4" or "<i4": what the file's values were converted to
  std::vector<int64_t> shape;
  std::vector<float> f32;    // when dtype is "<f4"
  std::vector<int32_t> i32;  // when dtype is "<i4"
};

// Writes data [shape] as <f4 / <i4 / <f8 / <i8 to `path` via a temporary file renamed into place.
void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const double* data, const std::vector<int64_t>& shape);
void write_npy(const std::string& path, const int64_t* data, const std::vector<int64_t>& shape);

// The .npy header for an array of `shape` (for writers that stream the data afterwards), padded
// to at least `min_bytes` (so a header can later be rewritten in place for a smaller shape).
std::string npy_header(const char* dtype, const std::vector<int64_t>& shape, size_t min_bytes = 0);

// Reads an .npy of <f4 (or <f8, converted) or <i4/<i8/bool/u1 (converted). Throws naming the file.
NpyArray read_npy(const std::string& path);

}  // namespace gb::io
