// TensorBoard's record framing ("TFRecord"), appended to a file.
//
// Each record on disk is, little-endian:
//   u64 length | u32 masked_crc32c(length bytes) | payload (length bytes) | u32
//   masked_crc32c(payload)
//
// Records are framed into an in-memory buffer and reach the file on flush(). A failed write
// (disk full, file size limit, I/O error) throws gb::Error naming the file, and the file is cut
// back to the end of the last whole record written, so readers never meet a torn record; the
// message says how many records the file keeps and how many were lost. The writer then stays
// failed: every later append/flush throws the same error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace gb::tb {

class RecordWriter {
 public:
  // Takes ownership of `fd`, a file open for writing (positioned at its end); `path` names it in
  // messages.
  RecordWriter(int fd, std::filesystem::path path);
  ~RecordWriter();  // closes the file without flushing (call close() to keep buffered records)
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  void append(std::string_view payload);  // frames one record into the buffer
  void flush();                           // writes the buffer to the file
  void close();                           // flush(), then close the file (idempotent)

  const std::filesystem::path& path() const { return path_; }
  size_t buffered_bytes() const { return buffer_.size(); }
  int64_t records_written() const { return records_written_; }

 private:
  void check_usable() const;
  [[noreturn]] void fail_write(int error_number);

  int fd_ = -1;
  std::filesystem::path path_;
  std::string buffer_;            // whole framed records not yet written
  int64_t buffered_records_ = 0;  // how many records `buffer_` holds
  uint64_t file_bytes_ = 0;       // bytes of whole records in the file
  int64_t records_written_ = 0;   // whole records in the file
  std::string failure_;           // set once a write failed
};

// The framed bytes of one record (exposed for tests).
std::string frame_record(std::string_view payload);

}  // namespace gb::tb
