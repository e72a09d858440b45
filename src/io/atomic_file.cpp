#include "io/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace gb::io {

namespace {

// "<path>.partial.<pid>.<n>": two writers of the same path (two processes, or two threads) never
// share a partial file; the last rename wins with a whole file.
std::string partial_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return cat(path, ".partial.", ::getpid(), ".", counter++);
}

}  // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), partial_(partial_name(path_)) {
  out_.open(partial_, std::ios::binary | std::ios::trunc);
  if (!out_) fail(path_, ": cannot create: ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::remove(partial_.c_str());
  }
}

void AtomicFile::write(const void* data, size_t bytes) {
  out_.write(static_cast<const char*>(data), std::streamsize(bytes));
}

void AtomicFile::commit() {
  out_.close();
  if (!out_) fail(path_, ": write failed (disk full?)");
  if (std::rename(partial_.c_str(), path_.c_str()) != 0)
    fail(path_, ": cannot rename into place: ", std::strerror(errno));
  committed_ = true;
}

void write_file_atomically(const std::string& path, std::string_view contents) {
  AtomicFile f(path);
  f.write(contents.data(), contents.size());
  f.commit();
}

}  // namespace gb::io
