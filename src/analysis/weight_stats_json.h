// WeightStats as JSON, for `glassbox weights --json` and the viewer. Numbers that are not finite
// (NaN, ±Inf) become null.
#pragma once

#include <nlohmann/json.hpp>

#include "analysis/weight_stats.h"

namespace gb {

nlohmann::json to_json(const WeightStats& s);
nlohmann::json to_json(const SpectrumOptions& o);

}  // namespace gb
