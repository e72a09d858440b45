// Options shared by the subcommands: which model, how many threads, which tokens.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "model/model.h"

namespace gb::cli {

struct ModelArgs {
  std::string path;
  int threads = 0;
  bool exact = false;  // quantized weights: keep activations f32 in the products

  void add(CLI::App* cmd);
  std::unique_ptr<Model> load() const;
};

struct PromptArgs {
  std::string text;
  std::string tokens = {};  // "1,2,3"
  bool bos = false;         // force a BOS token in front of text

  void add(CLI::App* cmd);
  // The prompt's token ids; throws UsageError when neither or both are given, or on bad ids.
  std::vector<int32_t> ids(const Model& model) const;
};

// Parses "1,2,3" (throws UsageError naming `what`).
std::vector<int32_t> parse_int_list(const std::string& text, const std::string& what);

// The label of a token for tables: its piece (escaped) when the model has a tokenizer.
std::string token_label(const Model& model, int32_t id);

}  // namespace gb::cli
