#include "analysis/tokens.h"

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gb::analysis {

std::string id_label(int32_t id) {
  return "#" + std::to_string(id);
}

TokenLabeler model_labeler(const Model& model) {
  const tok::Tokenizer* t = model.tokenizer();
  if (!t) return id_label;
  return [t](int32_t id) { return id < t->vocab_size() ? t->piece(id) : id_label(id); };
}

bool default_bos(const Model& model) {
  return model.tokenizer() && model.tokenizer()->add_bos_default() && model.tokenizer()->bos();
}

std::vector<int32_t> encode_text(const Model& model, std::string_view text, bool bos,
                                 const std::string& what) {
  const tok::Tokenizer* t = model.tokenizer();
  if (!t) usage_fail(what, ": ", model.path(), " has no tokenizer; give token ids instead");
  return t->encode(text, {.add_bos = bos, .add_eos = false, .parse_special = false});
}

TokenChoice token_from_text(const Model& model, std::string_view text, const std::string& what) {
  const std::vector<int32_t> ids = encode_text(model, text, false, what);
  if (ids.empty()) usage_fail(what, ": '", text, "' encodes to no tokens");
  TokenChoice c{ids[0], ""};
  if (ids.size() > 1) {
    const TokenLabeler label = model_labeler(model);
    c.note = cat(what, ": '", text, "' is ", ids.size(), " tokens:");
    for (int32_t id : ids) c.note += " '" + label(id) + "'";
    c.note += "; using the first, '" + label(ids[0]) + "'";
  }
  return c;
}

}  // namespace gb::analysis
