#include "tokenizer/token_matcher.h"

#include <algorithm>

namespace gb::tok {

void TokenMatcher::add(std::string text, int32_t id) {
  if (text.empty()) return;
  auto& bucket = by_first_byte_[static_cast<unsigned char>(text[0])];
  // Keep the bucket sorted longest first; among equal lengths, the first added wins.
  const auto at =
      std::upper_bound(bucket.begin(), bucket.end(), text.size(),
                       [](size_t length, const Entry& e) { return length > e.text.size(); });
  bucket.insert(at, {std::move(text), id});
  ++count_;
}

std::optional<TokenMatcher::Match> TokenMatcher::match(std::string_view text, size_t pos) const {
  for (const Entry& e : by_first_byte_[static_cast<unsigned char>(text[pos])])
    if (text.compare(pos, e.text.size(), e.text) == 0) return Match{e.id, e.text.size()};
  return std::nullopt;
}

std::vector<Fragment> split_tokens(std::string_view text, const TokenMatcher& matcher) {
  std::vector<Fragment> out;
  if (matcher.empty()) {
    if (!text.empty()) out.push_back({.text = text, .token = std::nullopt});
    return out;
  }
  size_t start = 0;
  for (size_t pos = 0; pos < text.size();) {
    const auto m = matcher.match(text, pos);
    if (!m) {
      ++pos;
      continue;
    }
    if (pos > start)
      out.push_back({.text = text.substr(start, pos - start), .token = std::nullopt});
    out.push_back({.text = {}, .token = m->id});
    pos += m->length;
    start = pos;
  }
  if (start < text.size()) out.push_back({.text = text.substr(start), .token = std::nullopt});
  return out;
}

}  // namespace gb::tok
