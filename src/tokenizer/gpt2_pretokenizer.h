// GPT-2's pre-tokenisation: the split made by the regular expression
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// before byte-level BPE runs on each piece. Implemented as a hand-written scanner with the
// regex's exact semantics (leftmost alternative wins, greedy runs, the `\s+(?!\S)` backtrack that
// leaves the last space of a run to the following word). Unicode categories come from ICU;
// `\s` is ECMAScript's whitespace (the reference implementation is JavaScript): the Zs category
// plus TAB, LF, VT, FF, CR, U+2028, U+2029 and U+FEFF. Bytes that are not valid UTF-8 count as
// "other" characters (neither letter, number nor space), one byte each.
#pragma once

#include <string_view>
#include <vector>

namespace gb::tok {

enum class CharClass : unsigned char { Letter, Number, Space, Other };

// Class of the character at text[pos] and its length in bytes.
struct ClassifiedChar {
  CharClass cls;
  unsigned length;
};
ClassifiedChar classify_char(std::string_view text, size_t pos);

// Appends the pieces of `text`, in order; their concatenation is `text`.
void gpt2_pretokenize(std::string_view text, std::vector<std::string_view>& pieces);

}  // namespace gb::tok
