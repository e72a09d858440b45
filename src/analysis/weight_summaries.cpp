#include "analysis/weight_summaries.h"

#include <cmath>

namespace gb {
namespace {

bool all_digits(const std::string& s) {
  if (s.empty() || s.size() > 9) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

void add_finite_scalar(SummaryWriter& writer, const std::string& tag, double value, int64_t step) {
  if (std::isfinite(value) && std::isfinite(float(value)))
    writer.add_scalar(tag, float(value), step);
}

}  // namespace

SummaryPlace summary_place(const std::string& name) {
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('.', begin);
    if (end == std::string::npos) end = name.size();
    const std::string segment = name.substr(begin, end - begin);
    if (all_digits(segment))
      return {.tag = name.substr(0, begin) + "{L}" + name.substr(end), .step = std::stoll(segment)};
    begin = end + 1;
  }
  return {.tag = name, .step = 0};
}

void add_weight_summaries(SummaryWriter& writer, const WeightStats& s,
                          std::span<const float> values) {
  if (!s.computed) return;
  const SummaryPlace place = summary_place(s.name);
  const std::string& tag = place.tag;
  const int64_t step = place.step;
  if (!s.histogram.empty()) writer.add_histogram("histogram/" + tag, s.histogram, step);
  if (s.values.finite > 0) {
    add_finite_scalar(writer, "norm/" + tag, s.values.l2_norm, step);
    add_finite_scalar(writer, "std/" + tag, s.values.std, step);
    add_finite_scalar(writer, "abs_max/" + tag, s.values.abs_max, step);
  }
  if (!s.singular_values.empty())
    add_finite_scalar(writer, "sigma_1/" + tag, s.singular_values.front(), step);
  if (s.quantization)
    add_finite_scalar(writer, "quant_rel_error/" + tag, s.quantization->rel_error, step);
  if (s.reference)
    add_finite_scalar(writer, "reference_rel_error/" + tag, s.reference->rel_error, step);
  const bool matrix = s.shape.size() == 2 && s.shape[0] > 1 && s.shape[1] > 1;
  if (matrix && s.values.finite > 0) {
    writer.add_heatmap("heatmap/" + tag,
                       {.values = values, .tiles = 1, .rows = s.shape[0], .cols = s.shape[1]}, step,
                       {.colormap = Colormap::Diverging, .max_tile_side = kWeightHeatmapSide});
  }
}

}  // namespace gb
