// gb::SummaryWriter: TensorBoard summaries from C++, with the API of torch's SummaryWriter.
//
//   gb::SummaryWriter writer("runs/exp1");
//   for (int64_t step = 0; step < n_steps; ++step) {
//     writer.add_scalar("loss/train", loss, step);
//     writer.add_histogram("layer0/weight", weights, step);
//   }
//   writer.close();  // or let the destructor do it
//
// Then `tensorboard --logdir runs`. Each writer creates one new event file in its log directory
// (see event_file.h for its name). Events are buffered in memory and written to the file by
// flush(), close(), a background thread every `flush_seconds`, and whenever more than 1 MiB is
// buffered. All methods are thread-safe.
//
// Errors (gb::Error): an uncreatable or unwritable log directory throws from the constructor,
// naming the directory. A failed write (disk full, I/O error) throws from the call that wrote,
// or, if the background thread hit it, from the next call; the file is then cut back to its
// last whole event and the message says how many events were lost (record_writer.h). After
// that every call throws. A failure nobody was told about is printed by the destructor as
// `glassbox: warning: ...` on stderr.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "export/heatmap.h"
#include "export/histogram.h"
#include "export/image.h"

namespace gb {

namespace tb {
class RecordWriter;
}

struct SummaryWriterOptions {
  double flush_seconds = 10;         // background flush period; <= 0: only explicit flushes
  std::string filename_suffix = {};  // appended to the event file name (as torch's)
  int max_image_side = 2048;         // larger images are downsampled to fit (image.h)
  bool warn_non_finite = true;       // stderr warning when a histogram drops NaN/Inf values
};

// What add_histogram did with the values it was given.
struct HistogramReport {
  int64_t counted = 0;    // finite values in the histogram
  int64_t nan_count = 0;  // NaN values left out
  int64_t inf_count = 0;  // +Inf and -Inf values left out
  bool written = false;   // false when no value was finite: no event is written
};

class SummaryWriter {
 public:
  explicit SummaryWriter(const std::filesystem::path& log_dir, SummaryWriterOptions options = {});
  ~SummaryWriter();  // close(); a pending error is printed, not thrown
  SummaryWriter(const SummaryWriter&) = delete;
  SummaryWriter& operator=(const SummaryWriter&) = delete;

  // `wall_time` is seconds since the Unix epoch; unset: now. Scalars are stored as float32.
  void add_scalar(std::string_view tag, float value, int64_t step,
                  std::optional<double> wall_time = {});

  // A histogram of `values`, bucketed by the rule in histogram.h. NaN and ±Inf are left out and
  // counted (returned, and warned about if options.warn_non_finite); if no value is finite,
  // nothing is written. Throws gb::Error if `values` is empty.
  HistogramReport add_histogram(std::string_view tag, std::span<const float> values, int64_t step,
                                std::optional<double> wall_time = {});
  // The same with the histogram already made (make_histogram in histogram.h), e.g. by code that
  // also reports it elsewhere.
  HistogramReport add_histogram(std::string_view tag, const Histogram& histogram, int64_t step,
                                std::optional<double> wall_time = {});

  // An 8-bit grayscale or RGB image, PNG-encoded; downsampled first if a side exceeds
  // options.max_image_side.
  void add_image(std::string_view tag, const Image& image, int64_t step,
                 std::optional<double> wall_time = {});

  // A heat map of one matrix or a stack of them (e.g. attention heads, tiled), as an image.
  void add_heatmap(std::string_view tag, const MatrixStack& matrices, int64_t step,
                   const HeatmapOptions& heatmap = {}, std::optional<double> wall_time = {});

  // UTF-8 text (Markdown) for TensorBoard's text dashboard.
  void add_text(std::string_view tag, std::string_view text, int64_t step,
                std::optional<double> wall_time = {});

  void flush();  // writes every buffered event to the file
  void close();  // flush(), stop the background thread, close the file; idempotent

  const std::filesystem::path& log_dir() const { return log_dir_; }
  std::filesystem::path file_path() const;  // the event file being written

 private:
  void append(std::string event);
  void flush_periodically();
  void stop_flush_thread();
  template <typename Body>
  void with_file(Body&& body);  // runs body under the lock; notes errors it throws

  std::filesystem::path log_dir_;
  SummaryWriterOptions options_;
  std::unique_ptr<tb::RecordWriter> file_;
  mutable std::mutex mutex_;  // guards file_, closed_, error_reported_
  bool closed_ = false;
  bool error_reported_ = false;  // a write error has been thrown to the caller
  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread flusher_;
};

}  // namespace gb
