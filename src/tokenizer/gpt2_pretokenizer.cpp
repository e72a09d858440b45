#include "tokenizer/gpt2_pretokenizer.h"

#include <unicode/uchar.h>

#include <array>

#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

constexpr std::array<CharClass, 128> ascii_classes = [] {
  std::array<CharClass, 128> t{};
  for (int c = 0; c < 128; ++c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      t[c] = CharClass::Letter;
    else if (c >= '0' && c <= '9')
      t[c] = CharClass::Number;
    else if (c == ' ' || (c >= '\t' && c <= '\r'))
      t[c] = CharClass::Space;
    else
      t[c] = CharClass::Other;
  }
  return t;
}();

CharClass classify_code_point(char32_t cp) {
  const uint32_t mask = U_GET_GC_MASK(UChar32(cp));
  if (mask & U_GC_L_MASK) return CharClass::Letter;
  if (mask & U_GC_N_MASK) return CharClass::Number;
  if ((mask & U_GC_ZS_MASK) || cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF)
    return CharClass::Space;
  return CharClass::Other;
}

// End of the run of characters of class `cls` starting at `pos`.
size_t run_end(std::string_view text, size_t pos, CharClass cls) {
  while (pos < text.size()) {
    const auto c = classify_char(text, pos);
    if (c.cls != cls) break;
    pos += c.length;
  }
  return pos;
}

// Length of a contraction ('s 't 're 've 'm 'll 'd, lower case only) at `pos`, or 0.
size_t contraction_length(std::string_view text, size_t pos) {
  if (text[pos] != '\'' || pos + 1 >= text.size()) return 0;
  const char a = text[pos + 1];
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (pos + 2 >= text.size()) return 0;
  const char b = text[pos + 2];
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// Length of the piece starting at `pos`.
size_t piece_length(std::string_view text, size_t pos) {
  if (size_t n = contraction_length(text, pos)) return n;
  const auto first = classify_char(text, pos);
  if (first.cls != CharClass::Space) return run_end(text, pos, first.cls) - pos;
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: one ASCII space joins the run after it.
  if (text[pos] == ' ' && pos + 1 < text.size()) {
    const auto next = classify_char(text, pos + 1);
    if (next.cls != CharClass::Space) return run_end(text, pos + 1, next.cls) - pos;
  }
  // `\s+(?!\S)`: a whitespace run, less its last character when a non-space follows;
  // `\s+`: a single whitespace character before a non-space.
  size_t end = pos;
  size_t last = pos;  // start of the run's last character
  while (end < text.size()) {
    const auto c = classify_char(text, end);
    if (c.cls != CharClass::Space) break;
    last = end;
    end += c.length;
  }
  if (end == text.size() || last == pos) return end - pos;
  return last - pos;
}

}  // namespace

ClassifiedChar classify_char(std::string_view text, size_t pos) {
  const auto byte = static_cast<unsigned char>(text[pos]);
  if (byte < 0x80) return {ascii_classes[byte], 1};
  const Utf8Char c = decode_utf8(text, pos);
  if (!c.valid) return {CharClass::Other, 1};
  return {classify_code_point(c.cp), c.length};
}

void gpt2_pretokenize(std::string_view text, std::vector<std::string_view>& pieces) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t n = piece_length(text, pos);
    pieces.push_back(text.substr(pos, n));
    pos += n;
  }
}

}  // namespace gb::tok
