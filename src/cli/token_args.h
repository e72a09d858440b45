// A single token chosen on the command line, as text (--target ' Paris') or as an id
// (--target-id 123). Text that the tokenizer splits into several tokens resolves to the first of
// them, with a warning on stderr naming the pieces.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "model/model.h"

namespace gb::cli {

struct TokenArg {
  explicit TokenArg(std::string flag) : name(std::move(flag)) {}

  std::string name;  // "target": gives --target and --target-id
  std::string text;
  int64_t id = kNone;
  static constexpr int64_t kNone = INT64_MIN;

  void add(CLI::App* cmd, const std::string& what);
  // The id, if one was given; throws UsageError when both or a bad one is given.
  std::optional<int32_t> resolve(const Model& model) const;
};

}  // namespace gb::cli
