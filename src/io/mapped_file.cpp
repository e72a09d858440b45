#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace gb::io {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    fail(path, ": cannot stat: ", std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, S_ISDIR(st.st_mode) ? ": is a directory, not a model file" : ": not a regular file");
  }
  std::shared_ptr<MappedFile> file(new MappedFile());
  file->path_ = path;
  file->size_ = size_t(st.st_size);
  if (file->size_ > 0) {
    void* p = mmap(nullptr, file->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      fail(path, ": cannot map: ", std::strerror(err));
    }
    file->data_ = static_cast<const uint8_t*>(p);
    // Advice only (errors ignored): lets the kernel read the file into 2 MiB page-cache folios
    // and map them with huge pages (see prefer_huge_pages).
    madvise(p, file->size_, MADV_HUGEPAGE);
  }
  file->fd_ = fd;
  return file;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

namespace {

constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kMinHugeBytes = 2 * kHugePage;  // smaller files are left in small pages

// Bytes of the file mappings within [start, start + size) mapped with huge pages (the
// FilePmdMapped lines of /proc/self/smaps), or -1 when the kernel does not say.
int64_t pmd_mapped_bytes(const void* start, size_t size) {
  std::ifstream smaps("/proc/self/smaps");
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  const uintptr_t lo = uintptr_t(start), hi = (lo + size + page - 1) / page * page;
  int64_t total = -1;
  bool inside = false;
  std::string line;
  while (std::getline(smaps, line)) {
    const std::string first = line.substr(0, line.find(' '));
    if (!first.empty() && first.back() != ':') {  // "begin-end perms offset ..." opens a mapping
      uintptr_t begin = 0, end = 0;
      char dash = 0;
      std::istringstream(first) >> std::hex >> begin >> dash >> end;
      inside = dash == '-' && begin >= lo && end <= hi;
    } else if (inside && first == "FilePmdMapped:") {
      total = std::max<int64_t>(total, 0) + std::atoll(line.c_str() + first.size()) * 1024;
    }
  }
  return total;
}

// Whether the page cache holds some file in huge pages now (FileHugePages in /proc/meminfo).
bool page_cache_has_huge_pages() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line))
    if (line.rfind("FileHugePages:", 0) == 0) return std::atoll(line.c_str() + 14) > 0;
  return false;
}

}  // namespace

int64_t MappedFile::huge_page_bytes() const {
  return size_ >= kMinHugeBytes ? pmd_mapped_bytes(data_, size_) : -1;
}

// Bytes of the file the page cache holds in huge pages, or -1 where the kernel does not say: the
// file is mapped a chunk at a time and each chunk dropped from the mapping after it is looked at
// (the page cache keeps it), so that the whole file never counts in this process's memory at
// once. Pages mapped before (the header, read while parsing) are dropped first, so that no chunk
// counts them.
int64_t MappedFile::cached_huge_bytes() {
  constexpr size_t kChunk = 32 * kHugePage;
  uint8_t* at = const_cast<uint8_t*>(data_);
  madvise(at, size_, MADV_DONTNEED);
  int64_t total = 0;
  for (size_t offset = 0; offset < size_; offset += kChunk) {
    const size_t n = std::min(kChunk, size_ - offset);
    // MADV_POPULATE_READ: Linux 5.14
    const int64_t huge =
        madvise(at + offset, n, MADV_POPULATE_READ) == 0 ? pmd_mapped_bytes(data_, size_) : -1;
    madvise(at + offset, n, MADV_DONTNEED);
    if (huge < 0) return -1;
    total += huge;
  }
  return total;
}

void MappedFile::prefer_huge_pages() {
  // (a mapping that does not start on a huge page, as the file does, cannot use them)
  if (size_ < kMinHugeBytes || fd_ < 0 || uintptr_t(data_) % kHugePage != 0) return;
  const int64_t huge = cached_huge_bytes();
  const size_t whole = size_ / kHugePage * kHugePage;  // the rest is always in small pages
  // Read again only where the kernel shows it keeps files in huge pages (some of this one, or
  // another), else every load would read the file again for nothing.
  if (huge < 0 || size_t(huge) >= whole / 8 * 7 || (huge == 0 && !page_cache_has_huge_pages()))
    return;
  // The page cache keeps pages while they are mapped, and dirty ones (a file just written) until
  // written back: the range is held by an inaccessible anonymous mapping while the file's pages
  // are written back and dropped, then the file is mapped there again. Forward passes read it
  // back, in huge pages.
  void* at = const_cast<uint8_t*>(data_);
  if (mmap(at, size_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) ==
      MAP_FAILED)
    fail(path_, ": cannot map again: ", std::strerror(errno));
  fdatasync(fd_);
  posix_fadvise(fd_, 0, 0, POSIX_FADV_DONTNEED);
  if (mmap(at, size_, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd_, 0) == MAP_FAILED)
    fail(path_, ": cannot map again: ", std::strerror(errno));
  madvise(at, size_, MADV_HUGEPAGE);
}

void ByteReader::require(size_t n, const char* what) const {
  if (n > size_ - pos_) fail(path_, ": ", what, ": file ends early (truncated?)");
}

std::string ByteReader::read_bytes(size_t n, const char* what) {
  require(n, what);
  std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return s;
}

}  // namespace gb::io
