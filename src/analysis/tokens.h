// Tokens as the analyses name them: labels for tables and JSON, and text turned into ids
// through the model's tokenizer.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "model/model.h"

namespace gb::analysis {

// The printable label of a token id (its piece when the model has a tokenizer, else "#id").
using TokenLabeler = std::function<std::string(int32_t)>;
// "#id" for every token: the default for models without a tokenizer.
std::string id_label(int32_t id);
// The labeler of a model: its tokenizer's pieces when it has one, else id_label.
TokenLabeler model_labeler(const Model& model);

// Whether text documents get a BOS by default: the tokenizer says so (add_bos) and has one.
bool default_bos(const Model& model);

// text -> ids with the model's tokenizer (a BOS in front when `bos`). Throws UsageError naming
// `what` when the model has no tokenizer.
std::vector<int32_t> encode_text(const Model& model, std::string_view text, bool bos,
                                 const std::string& what);

// A single target token given as text (" Paris"). Text that is several tokens resolves to the
// first of them; `note` then says so ("' Paris' is 2 tokens: ' Par' 'is'; using ' Par'").
struct TokenChoice {
  int32_t id = -1;
  std::string note;  // empty when the text was one token
};
TokenChoice token_from_text(const Model& model, std::string_view text, const std::string& what);

}  // namespace gb::analysis
