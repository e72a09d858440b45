// Serialized TensorBoard Event messages (the payload of each record in an event file).
//
// Built with libprotobuf from export/tensorboard.proto; only this pair of files sees the
// generated classes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "export/histogram.h"

namespace gb::tb {

// Step and wall-clock time (seconds since the Unix epoch) of one event.
struct EventTime {
  int64_t step = 0;
  double wall_time = 0;
};

// The first event of every file: file_version "brain.Event:2", writer "glassbox".
std::string file_version_event(double wall_time);

// A scalar (Summary.Value.simple_value).
std::string scalar_event(std::string_view tag, float value, EventTime at);

// A histogram (Summary.Value.histo); `histogram` must not be empty.
std::string histogram_event(std::string_view tag, const Histogram& histogram, EventTime at);

// An encoded image (Summary.Value.image); channels 1 (grayscale) or 3 (RGB).
std::string image_event(std::string_view tag, int height, int width, int channels,
                        std::string_view png, EventTime at);

// Text for TensorBoard's text plugin: a DT_STRING tensor of shape [1] holding the UTF-8 text,
// with summary metadata naming plugin "text" (the convention of TensorBoard's and torch's text
// summaries).
std::string text_event(std::string_view tag, std::string_view text, EventTime at);

}  // namespace gb::tb
