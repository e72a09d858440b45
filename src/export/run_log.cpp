#include "export/run_log.h"

#include <system_error>

namespace gb {

namespace {

bool path_exists(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::exists(path, error);
}

}  // namespace

RunLog::RunLog(const std::filesystem::path& log_dir, SummaryWriterOptions options)
    : made_dir_(!path_exists(log_dir)),
      writer_(std::make_unique<SummaryWriter>(log_dir, std::move(options))),
      file_(writer_->file_path()) {}

RunLog::~RunLog() {
  if (!finished_) discard();
}

std::filesystem::path RunLog::finish() {
  try {
    writer_->close();
  } catch (...) {
    discard();
    throw;
  }
  finished_ = true;
  return file_;
}

void RunLog::discard() noexcept {
  finished_ = true;
  try {
    writer_->close();
  } catch (...) {
    // The run failed already; its error is the one reported.
  }
  std::error_code error;
  std::filesystem::remove(file_, error);
  if (made_dir_) std::filesystem::remove(writer_->log_dir(), error);  // only if left empty
}

}  // namespace gb
