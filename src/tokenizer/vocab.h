// A tokenizer vocabulary: token texts, scores and types, the special token ids, and a text -> id
// index. Token texts are stored as the file stores them: byte-level characters (`Ġthe`) for
// GPT-2-style vocabularies, `▁the` and `<0x0A>` for SentencePiece-style ones.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gb::tok {

// Token types, numbered as in GGUF's tokenizer.ggml.token_type (and SentencePiece's model).
enum class TokenType : int32_t {
  Normal = 1,
  Unknown = 2,
  Control = 3,      // <s>, </s>, <|endoftext|>: never produced from text unless parse_special
  UserDefined = 4,  // always matched as a whole in text
  Unused = 5,       // SentencePiece: may be merged, then split back into its parts
  Byte = 6,         // <0xNN>, SentencePiece byte fallback
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Vocab {
  std::vector<std::string> tokens;  // [n_vocab]
  std::vector<float> scores;        // [n_vocab]; empty if the vocabulary has none
  std::vector<TokenType> types;     // [n_vocab]
  std::optional<int32_t> bos, eos, unk, pad;
  bool add_bos = false;  // prepend bos when encoding, unless the caller says otherwise
  bool add_eos = false;

  int32_t size() const { return int32_t(tokens.size()); }
  TokenType type(int32_t id) const { return types[size_t(id)]; }
  float score(int32_t id) const { return scores.empty() ? 0.0f : scores[size_t(id)]; }
  std::optional<int32_t> find(std::string_view text) const {
    auto it = index_.find(text);
    if (it == index_.end()) return std::nullopt;
    return it->second;
  }

  // Checks sizes, special ids and uniqueness and builds the text index. `source` names the file
  // (and key) in error messages: "<source>: duplicate token 'x' (ids 5 and 9)".
  void finalize(const std::string& source);
  // Builds the text index only (duplicates are an error), for lookups while loading.
  void build_index(const std::string& source);

 private:
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index_;
};

// "<0x0A>" for byte 0x0A: SentencePiece's name of a byte-fallback token.
std::string byte_token_text(uint8_t byte);

}  // namespace gb::tok
