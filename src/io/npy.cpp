#include "io/npy.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <regex>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/mapped_file.h"

namespace gb::io {
namespace {

std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i)
    s += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  return s + ")";
}

void write_file(const std::string& path, const std::string& header, const void* data,
                size_t bytes) {
  AtomicFile f(path);
  f.write(header.data(), header.size());
  f.write(data, bytes);
  f.commit();
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

}  // namespace

std::string npy_header(const char* dtype, const std::vector<int64_t>& shape, size_t min_bytes) {
  std::string dict = std::string("{'descr': '") + dtype +
                     "', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  // magic(6) + version(2) + header length(2) + dict + padding + '\n', total a multiple of 64.
  const size_t total = std::max((10 + dict.size() + 1 + 63) / 64 * 64, min_bytes);
  dict.append(total - 10 - dict.size() - 1, ' ');
  dict += '\n';
  std::string h = "\x93NUMPY";
  h += char(1);
  h += char(0);
  h += char(dict.size() & 0xff);
  h += char(dict.size() >> 8);
  return h + dict;
}

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  write_file(path, npy_header("<f4", shape), data, size_t(numel(shape)) * 4);
}

void write_npy(const std::string& path, const int32_t* data, const std::vector<int64_t>& shape) {
  write_file(path, npy_header("<i4", shape), data, size_t(numel(shape)) * 4);
}

void write_npy(const std::string& path, const double* data, const std::vector<int64_t>& shape) {
  write_file(path, npy_header("<f8", shape), data, size_t(numel(shape)) * 8);
}

void write_npy(const std::string& path, const int64_t* data, const std::vector<int64_t>& shape) {
  write_file(path, npy_header("<i8", shape), data, size_t(numel(shape)) * 8);
}

NpyArray read_npy(const std::string& path) {
  auto file = MappedFile::open(path);
  ByteReader in(file->data(), file->size(), path);
  if (in.read_bytes(6, "magic") != "\x93NUMPY") fail(path, ": not a .npy file");
  const uint8_t major = in.read<uint8_t>("version");
  in.read<uint8_t>("version");
  size_t header_len;
  if (major == 1)
    header_len = in.read<uint16_t>("header length");
  else if (major == 2 || major == 3)
    header_len = in.read<uint32_t>("header length");
  else
    fail(path, ": unsupported .npy version ", int(major));
  const std::string header = in.read_bytes(header_len, "header");

  static const std::regex descr_re(R"('descr':\s*'([^']*)')");
  static const std::regex order_re(R"('fortran_order':\s*(True|False))");
  static const std::regex shape_re(R"('shape':\s*\(([^)]*)\))");
  std::smatch m;
  NpyArray a;
  if (!std::regex_search(header, m, descr_re)) fail(path, ": .npy header has no descr");
  const std::string descr = m[1];
  if (!std::regex_search(header, m, order_re)) fail(path, ": .npy header has no fortran_order");
  if (m[1] == "True") fail(path, ": Fortran-ordered arrays are not supported (save with C order)");
  if (!std::regex_search(header, m, shape_re)) fail(path, ": .npy header has no shape");
  const std::string dims = m[1];
  int64_t n = 1;
  for (size_t i = 0; i < dims.size();) {
    while (i < dims.size() && (dims[i] == ' ' || dims[i] == ',')) ++i;
    if (i >= dims.size()) break;
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(dims.substr(i), &used);
    } catch (const std::exception&) {
      fail(path, ": malformed shape in .npy header");
    }
    if (v < 0 || __builtin_mul_overflow(n, int64_t(v), &n) || n > (int64_t(1) << 40))
      fail(path, ": invalid shape in .npy header");
    a.shape.push_back(v);
    i += used;
  }
  const uint8_t* data = file->data() + in.offset();
  const size_t left = in.remaining();
  auto need = [&](size_t elem) {
    if (size_t(n) * elem > left)
      fail(path, ": data ends early (", left, " bytes for ", n, " values)");
  };
  if (descr == "<f4") {
    need(4);
    a.dtype = "<f4";
    a.f32.resize(size_t(n));
    std::memcpy(a.f32.data(), data, size_t(n) * 4);
  } else if (descr == "<f8") {
    need(8);
    a.dtype = "<f4";
    a.f32.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, data + i * 8, 8);
      a.f32[size_t(i)] = float(d);
    }
  } else if (descr == "<i4" || descr == "<i8") {
    const size_t elem = descr == "<i4" ? 4 : 8;
    need(elem);
    a.dtype = "<i4";
    a.i32.resize(size_t(n));
    for (int64_t i = 0; i < n; ++i) {
      int64_t v = 0;
      if (elem == 4) {
        int32_t x;
        std::memcpy(&x, data + i * 4, 4);
        v = x;
      } else {
        std::memcpy(&v, data + i * 8, 8);
      }
      a.i32[size_t(i)] = int32_t(v);
    }
  } else if (descr == "|b1" || descr == "|u1") {  // bool masks, as 0/1
    need(1);
    a.dtype = "<i4";
    a.i32.assign(data, data + n);
  } else {
    fail(path, ": dtype ", descr, " is not supported (use float32, float64, int32, int64 or bool)");
  }
  return a;
}

}  // namespace gb::io
