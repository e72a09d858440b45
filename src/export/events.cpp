#include "export/events.h"

#include "export/tensorboard.pb.h"

namespace gb::tb {
namespace {

std::string serialize(const proto::Event& event) {
  std::string bytes;
  event.SerializeToString(&bytes);
  return bytes;
}

// An event holding one summary value, filled in by `fill`.
template <typename Fill>
std::string summary_event(std::string_view tag, EventTime at, Fill&& fill) {
  proto::Event event;
  event.set_wall_time(at.wall_time);
  event.set_step(at.step);
  proto::Summary::Value* value = event.mutable_summary()->add_value();
  value->set_tag(std::string(tag));
  fill(*value);
  return serialize(event);
}

}  // namespace

std::string file_version_event(double wall_time) {
  proto::Event event;
  event.set_wall_time(wall_time);
  event.set_file_version("brain.Event:2");
  event.mutable_source_metadata()->set_writer("glassbox");
  return serialize(event);
}

std::string scalar_event(std::string_view tag, float value, EventTime at) {
  return summary_event(tag, at, [&](proto::Summary::Value& v) { v.set_simple_value(value); });
}

std::string histogram_event(std::string_view tag, const Histogram& h, EventTime at) {
  return summary_event(tag, at, [&](proto::Summary::Value& v) {
    proto::HistogramProto* histo = v.mutable_histo();
    histo->set_min(h.min);
    histo->set_max(h.max);
    histo->set_num(h.num);
    histo->set_sum(h.sum);
    histo->set_sum_squares(h.sum_squares);
    histo->mutable_bucket_limit()->Add(h.bucket_limit.begin(), h.bucket_limit.end());
    histo->mutable_bucket()->Add(h.bucket.begin(), h.bucket.end());
  });
}

std::string image_event(std::string_view tag, int height, int width, int channels,
                        std::string_view png, EventTime at) {
  return summary_event(tag, at, [&](proto::Summary::Value& v) {
    proto::Summary::Image* image = v.mutable_image();
    image->set_height(height);
    image->set_width(width);
    image->set_colorspace(channels);  // 1 = grayscale, 3 = RGB: the colorspace codes match
    image->set_encoded_image_string(std::string(png));
  });
}

std::string text_event(std::string_view tag, std::string_view text, EventTime at) {
  return summary_event(tag, at, [&](proto::Summary::Value& v) {
    v.mutable_metadata()->mutable_plugin_data()->set_plugin_name("text");
    proto::TensorProto* tensor = v.mutable_tensor();
    tensor->set_dtype(proto::DT_STRING);
    tensor->mutable_tensor_shape()->add_dim()->set_size(1);
    tensor->add_string_val(std::string(text));
  });
}

}  // namespace gb::tb
