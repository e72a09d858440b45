// A read-only memory mapping of a whole file. Model weights are used in place from the mapping
// and never copied; pages are loaded by the OS as kernels touch them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace gb::io {

class MappedFile {
 public:
  // Maps `path` read-only. Throws gb::Error naming the file (missing, a directory, unreadable).
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Bounds-checked sequential reader over a byte range (header parsing). Every read that would run
// past the end throws gb::Error("<path>: <what>: file ends early (truncated?)").
class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, std::string path)
      : data_(data), size_(size), path_(std::move(path)) {}

  size_t offset() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& path() const { return path_; }

  template <typename T>
  T read(const char* what) {
    T v;
    require(sizeof(T), what);
    __builtin_memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string read_bytes(size_t n, const char* what);
  void require(size_t n, const char* what) const;

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string path_;
};

}  // namespace gb::io
