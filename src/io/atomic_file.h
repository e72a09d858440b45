// Output files that are either complete or absent: data goes to `<path>.partial.<pid>.<n>`, and
// commit() renames it into place after checking every write. If anything fails (or commit() is never
// reached), the partial file is removed, so no half-written file ever looks complete.
#pragma once

#include <fstream>
#include <string>
#include <string_view>

namespace gb::io {

class AtomicFile {
 public:
  explicit AtomicFile(
      std::string path);  // throws gb::Error naming the path if it cannot be created
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  std::ofstream& stream() { return out_; }
  void write(const void* data, size_t bytes);
  void commit();  // throws gb::Error naming the path (disk full, rename failed)

 private:
  std::string path_, partial_;
  std::ofstream out_;
  bool committed_ = false;
};

// The whole file in one go.
void write_file_atomically(const std::string& path, std::string_view contents);

}  // namespace gb::io
