// Intervention options shared by `run` and `generate`: zero / mean ablation and steering.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "observe/hooked_model.h"
#include "observe/interventions.h"

namespace gb::cli {

struct InterventionArgs {
  std::vector<std::string> ablate;       // zero-ablate these hook selections
  std::vector<std::string> mean_ablate;  // mean-ablate these ...
  std::string mean_from;                 // ... with means over this text, or @FILE (a line each)
  std::string steer;                     // add a vector at this hook selection ...
  std::string steer_vector;              // ... from this .npy ([d]) ...
  std::string steer_from, steer_to;      // ... or mean(to) - mean(from) at that hook
  float steer_scale = 1.0f;

  void add(CLI::App* cmd);
  bool any() const { return !ablate.empty() || !mean_ablate.empty() || !steer.empty(); }
  // Compiles the options against the model (running reference prompts where needed).
  Interventions build(HookedModel& hm) const;
};

// A token given as text (must be one token; if it splits, the first is used with a warning) or
// as "#123"; throws UsageError naming `what`.
int32_t resolve_token(const Model& model, const std::string& text, const std::string& what);

}  // namespace gb::cli
