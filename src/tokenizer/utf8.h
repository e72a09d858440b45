// UTF-8 decoding and encoding, strict: overlong forms, surrogates and code points past U+10FFFF
// are invalid. Invalid input is never an error here; callers decide what an invalid byte means.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gb::tok {

// One decoded character: `cp` and its byte `length`, or `valid == false` with length 1 for a byte
// that does not start a well-formed sequence (a truncated sequence counts as invalid).
struct Utf8Char {
  char32_t cp = 0;
  uint32_t length = 1;
  bool valid = false;
};

// Decodes the character starting at text[pos] (pos < text.size()).
Utf8Char decode_utf8(std::string_view text, size_t pos);

// Appends the UTF-8 encoding of `cp` (cp <= 0x10FFFF).
void append_utf8(std::string& out, char32_t cp);

// Length of the longest prefix of `bytes` after which the rest could still become a valid
// character once more bytes arrive: a streaming decoder emits bytes[0, n) and keeps the tail.
size_t utf8_stable_prefix(std::string_view bytes);

// True if `bytes` (1 to 3 bytes) is the start of a well-formed sequence that is not yet complete.
bool utf8_incomplete(std::string_view bytes);

}  // namespace gb::tok
