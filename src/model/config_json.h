// A ModelConfig as JSON: `glassbox inspect --json`, trace manifests and the viewer use it.
#pragma once

#include <nlohmann/json.hpp>

#include "model/config.h"

namespace gb {

nlohmann::json config_json(const ModelConfig& c);

}  // namespace gb
