// Finds whole tokens (special or user-defined) in text: at a position, the longest token that
// starts there. Used to split <|endoftext|>-style tokens off before segmentation.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gb::tok {

class TokenMatcher {
 public:
  struct Match {
    int32_t id;
    size_t length;
  };

  void add(std::string text, int32_t id);  // empty texts are ignored
  bool empty() const { return count_ == 0; }
  // The longest token that starts at text[pos], if any.
  std::optional<Match> match(std::string_view text, size_t pos) const;

 private:
  struct Entry {
    std::string text;
    int32_t id;
  };
  std::array<std::vector<Entry>, 256> by_first_byte_;  // each sorted longest first
  size_t count_ = 0;
};

// A piece of text to segment, or a token found whole.
struct Fragment {
  std::string_view text;  // empty when `token` is set
  std::optional<int32_t> token;
};

// Splits `text` into raw-text fragments and the tokens `matcher` finds (scanning left to right,
// longest match first). Raw fragments are never empty.
std::vector<Fragment> split_tokens(std::string_view text, const TokenMatcher& matcher);

}  // namespace gb::tok
