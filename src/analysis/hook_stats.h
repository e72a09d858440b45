// The streaming statistics of one hook: per channel (ChannelStats) and over all its values
// (ValueHistogram).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/channel_stats.h"
#include "analysis/value_histogram.h"
#include "model/hooks.h"

namespace gb::analysis {

struct HookStats {
  std::string name;
  HookPoint point;
  std::vector<int64_t> channel_shape;  // [d_model], [n_heads, d_head], [n_heads] (patterns)
  int64_t positions = 0;               // rows (token positions, or queries) counted
  ChannelStats channels;
  ValueHistogram histogram;
};

}  // namespace gb::analysis
