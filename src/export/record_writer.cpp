#include "export/record_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "export/crc32c.h"

namespace gb::tb {
namespace {

void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(char((value >> (8 * i)) & 0xFF));
}

}  // namespace

std::string frame_record(std::string_view payload) {
  std::string record;
  record.reserve(payload.size() + 16);
  put_le(record, payload.size(), 8);
  put_le(record, mask_crc(crc32c(std::string_view(record.data(), 8))), 4);
  record.append(payload);
  put_le(record, mask_crc(crc32c(payload)), 4);
  return record;
}

RecordWriter::RecordWriter(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {
  off_t end = ::lseek(fd_, 0, SEEK_END);
  file_bytes_ = end > 0 ? uint64_t(end) : 0;
}

RecordWriter::~RecordWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void RecordWriter::check_usable() const {
  if (!failure_.empty()) throw Error(failure_);
  if (fd_ < 0) fail("event file ", path_.string(), " is already closed");
}

void RecordWriter::append(std::string_view payload) {
  check_usable();
  buffer_ += frame_record(payload);
  ++buffered_records_;
}

void RecordWriter::flush() {
  check_usable();
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_write(n < 0 ? errno : ENOSPC);
    done += size_t(n);
  }
  file_bytes_ += buffer_.size();
  records_written_ += buffered_records_;
  buffer_.clear();
  buffered_records_ = 0;
}

// Cuts the file back to its last whole record, remembers the failure, and throws it.
void RecordWriter::fail_write(int error_number) {
  bool cut = ::ftruncate(fd_, off_t(file_bytes_)) == 0;
  failure_ = cat("cannot write event file ", path_.string(), ": ", std::strerror(error_number),
                 "; ", buffered_records_, " event(s) lost; the file ",
                 cut ? "was cut back to its " : "may end in a torn record after its ",
                 records_written_, " whole event(s)");
  buffer_.clear();
  buffered_records_ = 0;
  throw Error(failure_);
}

void RecordWriter::close() {
  if (fd_ < 0 && failure_.empty()) return;
  check_usable();
  flush();
  int status = ::close(fd_);
  fd_ = -1;
  if (status != 0) fail("cannot close event file ", path_.string(), ": ", std::strerror(errno));
}

}  // namespace gb::tb
