#include "export/summary_writer.h"

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "export/event_file.h"
#include "export/events.h"
#include "export/histogram.h"
#include "export/record_writer.h"

namespace gb {
namespace {

constexpr size_t kFlushBytes = size_t(1) << 20;  // flush at once when this much is buffered

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

tb::EventTime event_time(int64_t step, std::optional<double> wall_time) {
  return {.step = step, .wall_time = wall_time.value_or(now_seconds())};
}

// TensorBoard's protocol stores tags as proto3 strings, which must be UTF-8.
bool is_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto lead = uint8_t(s[i]);
    size_t length = lead < 0x80             ? 1
                    : (lead & 0xE0) == 0xC0 ? 2
                    : (lead & 0xF0) == 0xE0 ? 3
                    : (lead & 0xF8) == 0xF0 ? 4
                                            : 0;
    if (length == 0 || i + length > s.size()) return false;
    for (size_t k = 1; k < length; ++k)
      if ((uint8_t(s[i + k]) & 0xC0) != 0x80) return false;
    i += length;
  }
  return true;
}

void check_tag(std::string_view tag) {
  if (tag.empty()) fail("summary tag must not be empty");
  if (!is_utf8(tag)) fail("summary tag '", tag, "' is not valid UTF-8");
}

}  // namespace

SummaryWriter::SummaryWriter(const std::filesystem::path& log_dir, SummaryWriterOptions options)
    : log_dir_(log_dir), options_(std::move(options)) {
  if (options_.max_image_side <= 0)
    fail("SummaryWriter: max_image_side must be positive, got ", options_.max_image_side);
  file_ = tb::open_event_file(log_dir_, options_.filename_suffix, now_seconds());
  if (options_.flush_seconds > 0) flusher_ = std::thread([this] { flush_periodically(); });
}

SummaryWriter::~SummaryWriter() {
  bool told = error_reported_;
  try {
    close();
  } catch (const std::exception& e) {
    if (!told) std::fprintf(stderr, "glassbox: warning: %s\n", e.what());
  }
}

template <typename Body>
void SummaryWriter::with_file(Body&& body) {
  std::lock_guard lock(mutex_);
  if (closed_) fail("summary writer for ", log_dir_.string(), " is already closed");
  try {
    body(*file_);
  } catch (const Error&) {
    error_reported_ = true;
    throw;
  }
}

void SummaryWriter::append(std::string event) {
  with_file([&](tb::RecordWriter& file) {
    file.append(event);
    if (file.buffered_bytes() > kFlushBytes) file.flush();
  });
}

void SummaryWriter::add_scalar(std::string_view tag, float value, int64_t step,
                               std::optional<double> wall_time) {
  check_tag(tag);
  append(tb::scalar_event(tag, value, event_time(step, wall_time)));
}

HistogramReport SummaryWriter::add_histogram(std::string_view tag, std::span<const float> values,
                                             int64_t step, std::optional<double> wall_time) {
  check_tag(tag);
  if (values.empty()) fail("histogram '", tag, "': no values");
  return add_histogram(tag, make_histogram(values), step, wall_time);
}

HistogramReport SummaryWriter::add_histogram(std::string_view tag, const Histogram& h, int64_t step,
                                             std::optional<double> wall_time) {
  check_tag(tag);
  HistogramReport report{.counted = int64_t(h.num),
                         .nan_count = h.nan_count,
                         .inf_count = h.inf_count,
                         .written = !h.empty()};
  if ((h.nan_count > 0 || h.inf_count > 0) && options_.warn_non_finite) {
    std::string message =
        cat("histogram '", tag, "' step ", step, ": ", h.nan_count, " NaN and ", h.inf_count,
            " infinite value(s) left out", h.empty() ? "; no finite value, nothing written" : "");
    std::fprintf(stderr, "glassbox: warning: %s\n", message.c_str());
  }
  if (report.written) append(tb::histogram_event(tag, h, event_time(step, wall_time)));
  return report;
}

void SummaryWriter::add_image(std::string_view tag, const Image& image, int64_t step,
                              std::optional<double> wall_time) {
  check_tag(tag);
  check_image(image, cat("image '", tag, "'"));
  Image fitted = downsample_to_fit(image, options_.max_image_side);
  std::string png = encode_png(fitted);
  append(tb::image_event(tag, fitted.height, fitted.width, fitted.channels, png,
                         event_time(step, wall_time)));
}

void SummaryWriter::add_heatmap(std::string_view tag, const MatrixStack& matrices, int64_t step,
                                const HeatmapOptions& heatmap, std::optional<double> wall_time) {
  check_tag(tag);
  Image image =
      with_context(cat("summary '", tag, "'"), [&] { return render_heatmap(matrices, heatmap); });
  add_image(tag, image, step, wall_time);
}

void SummaryWriter::add_text(std::string_view tag, std::string_view text, int64_t step,
                             std::optional<double> wall_time) {
  check_tag(tag);
  append(tb::text_event(tag, text, event_time(step, wall_time)));
}

void SummaryWriter::flush() {
  with_file([](tb::RecordWriter& file) { file.flush(); });
}

void SummaryWriter::close() {
  stop_flush_thread();
  std::lock_guard lock(mutex_);
  if (closed_) return;
  closed_ = true;
  try {
    file_->close();
  } catch (const Error&) {
    error_reported_ = true;
    throw;
  }
}

std::filesystem::path SummaryWriter::file_path() const {
  std::lock_guard lock(mutex_);
  return file_->path();
}

void SummaryWriter::flush_periodically() {
  auto period = std::chrono::duration<double>(options_.flush_seconds);
  std::unique_lock stop_lock(stop_mutex_);
  while (!stop_signal_.wait_for(stop_lock, period, [this] { return stopping_; })) {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    try {
      file_->flush();
    } catch (const Error&) {
      // The file keeps the error; the next call from user code throws it.
    }
  }
}

void SummaryWriter::stop_flush_thread() {
  {
    std::lock_guard lock(stop_mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (flusher_.joinable()) flusher_.join();
}

}  // namespace gb
