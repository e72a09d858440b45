#include "cli/token_args.h"

#include <cstdio>

#include "analysis/tokens.h"
#include "core/error.h"

namespace gb::cli {

void TokenArg::add(CLI::App* cmd, const std::string& what) {
  cmd->add_option("--" + name, text,
                  what + " as text (the first token when the text is several tokens)");
  cmd->add_option("--" + name + "-id", id, what + " as a token id");
}

std::optional<int32_t> TokenArg::resolve(const Model& model) const {
  const bool by_text = !text.empty(), by_id = id != kNone;
  if (by_text && by_id) usage_fail("give either --", name, " or --", name, "-id, not both");
  if (by_id) {
    if (id < 0 || id >= model.config().d_vocab)
      usage_fail("--", name, "-id: token ", id, " is out of range for a vocabulary of ",
                 model.config().d_vocab);
    return int32_t(id);
  }
  if (!by_text) return std::nullopt;
  const analysis::TokenChoice c = analysis::token_from_text(model, text, "--" + name);
  if (!c.note.empty()) std::fprintf(stderr, "glassbox: warning: %s\n", c.note.c_str());
  return c.id;
}

}  // namespace gb::cli
