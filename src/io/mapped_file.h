// A read-only memory mapping of a whole file. Model weights are used in place from the mapping
// and never copied; the OS reads pages in as they are first touched.
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

  // Before the weights are streamed by forward passes: the file read in 2 MiB pages where the
  // kernel allows. When the page cache already held it in small pages (it was written, or read
  // without asking for huge ones, since it was last evicted), those are written back and dropped,
  // once, and forward passes read the file again: decoding reads every weight per token, and with
  // 4 KiB pages (TLB misses; prefetchers stop at page boundaries) it ran slower (llama100m copied
  // afresh, then decode @128 best of 3 with and without this: one thread f32 and Q8_0 1.11x, Q4_0
  // 1.04x, F16 1.01x; two threads 1.02-1.05x). The mapping keeps its address, and maps no more
  // of the file afterwards than before. Does nothing for files under two huge pages, nor where
  // the kernel shows no file in huge pages.
  void prefer_huge_pages();
  // Bytes of the file mapped with huge pages now (of the pages touched so far), or -1 where the
  // kernel does not say or the file is left in small pages (under two huge pages).
  int64_t huge_page_bytes() const;

  const std::string& path() const { return path_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  MappedFile() = default;
  int64_t cached_huge_bytes();  // see prefer_huge_pages

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  int fd_ = -1;  // kept open to map the same file again (prefer_huge_pages)
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
