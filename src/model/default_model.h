// The default model: the small trained model shipped in the repository (models/), used by every
// command when no -m is given. Its SHA-256 (from models/<name>.sha256) is built into glassbox
// and checked when it is loaded, so a corrupted or replaced file is named, not run.
#pragma once

#include <string>

namespace gb {

// `given` if not empty; otherwise the default model's path (GLASSBOX_DEFAULT_MODEL in the
// environment overrides the built-in location and skips the checksum), after checking it
// exists and is intact. Says on stderr which model is used.
std::string resolve_model_path(const std::string& given);

// The built-in location of the shipped model.
std::string default_model_path();

}  // namespace gb
