#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

bool is_trail(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Sequence length announced by a lead byte; 0 if it cannot lead a sequence.
uint32_t lead_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return 2;
  if (c >= 0xE0 && c <= 0xEF) return 3;
  if (c >= 0xF0 && c <= 0xF4) return 4;
  return 0;
}

// Allowed range of the second byte for a lead byte (excludes overlongs, surrogates, > U+10FFFF).
bool second_byte_ok(unsigned char lead, unsigned char c) {
  switch (lead) {
    case 0xE0:
      return c >= 0xA0 && c <= 0xBF;
    case 0xED:
      return c >= 0x80 && c <= 0x9F;
    case 0xF0:
      return c >= 0x90 && c <= 0xBF;
    case 0xF4:
      return c >= 0x80 && c <= 0x8F;
    default:
      return is_trail(c);
  }
}

}  // namespace

Utf8Char decode_utf8(std::string_view text, size_t pos) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data()) + pos;
  const size_t left = text.size() - pos;
  const uint32_t n = lead_length(s[0]);
  if (n == 1) return {.cp = s[0], .length = 1, .valid = true};
  if (n == 0 || left < n || !second_byte_ok(s[0], s[1])) return {};
  for (uint32_t i = 2; i < n; ++i)
    if (!is_trail(s[i])) return {};
  char32_t cp = s[0] & (0x7F >> n);
  for (uint32_t i = 1; i < n; ++i) cp = (cp << 6) | (s[i] & 0x3F);
  return {.cp = cp, .length = n, .valid = true};
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

bool utf8_incomplete(std::string_view bytes) {
  const auto* s = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint32_t n = lead_length(s[0]);
  if (n <= 1 || bytes.size() >= n) return false;
  if (bytes.size() >= 2 && !second_byte_ok(s[0], s[1])) return false;
  for (size_t i = 2; i < bytes.size(); ++i)
    if (!is_trail(s[i])) return false;
  return true;
}

size_t utf8_stable_prefix(std::string_view bytes) {
  // Only the last three bytes can belong to an unfinished character.
  const size_t first = bytes.size() > 3 ? bytes.size() - 3 : 0;
  for (size_t start = first; start < bytes.size(); ++start)
    if (utf8_incomplete(bytes.substr(start))) return start;
  return bytes.size();
}

}  // namespace gb::tok
