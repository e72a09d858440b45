#include "io/mapped_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

namespace gb::io {
namespace {

constexpr size_t kHugePage = size_t(2) << 20;

// A file of `size` pseudo-random bytes, written 4 KiB at a time through the page cache and written
// back to disk, as a downloaded or converted model is. (Written in one call, the page cache may
// take it in large pages already.)
std::vector<uint8_t> write_file(const std::string& path, size_t size, unsigned seed) {
  std::vector<uint8_t> bytes(size);
  std::mt19937 rng(seed);
  for (uint8_t& b : bytes) b = uint8_t(rng());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  EXPECT_GE(fd, 0) << path;
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, bytes.data() + done, std::min<size_t>(4096, size - done));
    if (n <= 0) break;
    done += size_t(n);
  }
  EXPECT_EQ(done, size);
  EXPECT_EQ(::fsync(fd), 0);
  ::close(fd);
  return bytes;
}

void drop_from_page_cache(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0) << path;
  ASSERT_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("gb_mapped_file_test_" + name)).string();
}

// A model file whose pages the page cache holds small (it was just written) is read again into
// huge pages, at the same address and with the same bytes, where the kernel keeps files in huge
// pages at all: shown first with a file dropped from the cache, which a mapping that asks for
// huge pages reads in huge pages on such a kernel.
TEST(MappedFile, PreferHugePagesReadsASmallPagedFileAgainInHugePages) {
  const size_t size = 8 * kHugePage + 12345;  // a tail less than a huge page, as files have
  const size_t whole = size / kHugePage * kHugePage;

  const std::string probe_path = temp_path("probe");
  const std::vector<uint8_t> probe_bytes = write_file(probe_path, size, 1);
  drop_from_page_cache(probe_path);
  const auto probe = MappedFile::open(probe_path);
  probe->prefer_huge_pages();  // read from disk, into huge pages where the kernel can
  ASSERT_EQ(std::memcmp(probe->data(), probe_bytes.data(), size), 0);  // mapped as read
  const int64_t probe_huge = probe->huge_page_bytes();
  std::filesystem::remove(probe_path);
  if (probe_huge < int64_t(whole / 2))
    GTEST_SKIP() << "this kernel or file system keeps no file in huge pages (" << probe_huge
                 << " of " << whole << " bytes of a file read afresh with MADV_HUGEPAGE): "
                 << "there is nothing to prefer";

  const std::string path = temp_path("model");
  const std::vector<uint8_t> bytes = write_file(path, size, 2);
  const auto file = MappedFile::open(path);
  const uint8_t* address = file->data();
  file->prefer_huge_pages();
  EXPECT_EQ(file->data(), address);
  EXPECT_EQ(std::memcmp(file->data(), bytes.data(), size), 0);  // mapped as read
  EXPECT_GE(file->huge_page_bytes(), int64_t(whole / 8 * 7));
  // a second mapping of the same file finds its pages huge already
  const auto again = MappedFile::open(path);
  again->prefer_huge_pages();
  EXPECT_EQ(std::memcmp(again->data(), bytes.data(), size), 0);  // mapped as read
  EXPECT_GE(again->huge_page_bytes(), int64_t(whole / 8 * 7));
  std::filesystem::remove(path);
}

// Files too small for a huge page are left as they are, and their bytes read as written.
TEST(MappedFile, SmallFilesAreLeftAlone) {
  const std::string path = temp_path("small");
  const std::vector<uint8_t> bytes = write_file(path, 100000, 3);
  const auto file = MappedFile::open(path);
  file->prefer_huge_pages();
  EXPECT_EQ(std::memcmp(file->data(), bytes.data(), bytes.size()), 0);
  EXPECT_LE(file->huge_page_bytes(), 0);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace gb::io
