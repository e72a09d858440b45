// RunLog: the TensorBoard log of one command run (`glassbox trace --tensorboard DIR`, ...).
//
// It is opened before the run's work starts, so an unwritable log directory fails at once,
// before anything else is written. finish() closes the event file. A RunLog destroyed without
// finish() — an error part-way through the run — closes and deletes its event file (and the log
// directory, if it created it and nothing else is in it), so a failed run never leaves a log
// behind that looks complete; the run's own error is the one reported.
#pragma once

#include <filesystem>
#include <memory>

#include "export/summary_writer.h"

namespace gb {

class RunLog {
 public:
  explicit RunLog(const std::filesystem::path& log_dir, SummaryWriterOptions options = {});
  ~RunLog();
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  SummaryWriter& writer() { return *writer_; }
  // Flushes and closes the event file (throws gb::Error if that write fails; the file is then
  // deleted). Returns its path.
  std::filesystem::path finish();

 private:
  void discard() noexcept;

  bool made_dir_ = false;  // the log directory did not exist before
  std::unique_ptr<SummaryWriter> writer_;
  std::filesystem::path file_;
  bool finished_ = false;
};

}  // namespace gb
