#include "tokenizer/vocab.h"

#include <cstdio>

#include "core/error.h"

namespace gb::tok {
namespace {

void check_special(const std::string& source, const char* what, std::optional<int32_t>& id,
                   int32_t n) {
  if (id && (*id < 0 || *id >= n))
    fail(source, ": ", what, " token id ", *id, " is outside the vocabulary of ", n, " tokens");
}

}  // namespace

void Vocab::finalize(const std::string& source) {
  const size_t n = tokens.size();
  if (n == 0) fail(source, ": the vocabulary is empty");
  if (n > size_t(INT32_MAX)) fail(source, ": the vocabulary has too many tokens (", n, ")");
  if (types.empty()) types.assign(n, TokenType::Normal);
  if (types.size() != n)
    fail(source, ": ", types.size(), " token types for ", n, " tokens (need one per token)");
  if (!scores.empty() && scores.size() != n)
    fail(source, ": ", scores.size(), " scores for ", n, " tokens (need one per token)");
  for (size_t i = 0; i < n; ++i) {
    const auto t = int32_t(types[i]);
    if (t < 1 || t > 6) fail(source, ": token ", i, " has unknown token type ", t);
  }
  check_special(source, "bos", bos, int32_t(n));
  check_special(source, "eos", eos, int32_t(n));
  check_special(source, "unknown", unk, int32_t(n));
  check_special(source, "padding", pad, int32_t(n));

  build_index(source);
}

void Vocab::build_index(const std::string& source) {
  const size_t n = tokens.size();
  index_.clear();
  index_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i].empty()) fail(source, ": token ", i, " is empty");
    auto [it, inserted] = index_.emplace(tokens[i], int32_t(i));
    if (!inserted)
      fail(source, ": duplicate token '", tokens[i], "' (ids ", it->second, " and ", i, ")");
  }
}

std::string byte_token_text(uint8_t byte) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "<0x%02X>", byte);
  return buf;
}

}  // namespace gb::tok
