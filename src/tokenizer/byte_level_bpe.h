// Byte-level BPE as in GPT-2: the text is split by GPT-2's pre-tokeniser, each piece's UTF-8 bytes
// become the tokens of their byte characters (byte b is written as the character
// byte_to_unicode(b): printable Latin-1 bytes as themselves, the rest as U+0100 + n), and ranked
// merge rules join adjacent tokens. Any byte string encodes, so invalid UTF-8 in the input
// round-trips through the byte tokens.
#pragma once

#include <array>
#include <string>

#include "tokenizer/merge_table.h"
#include "tokenizer/model.h"
#include "tokenizer/vocab.h"

namespace gb::tok {

// GPT-2's reversible byte <-> character mapping.
char32_t byte_to_unicode(uint8_t byte);
// The byte a character stands for, or -1 if the character is not a byte character.
int byte_from_unicode(char32_t cp);

class ByteLevelBpe : public Model {
 public:
  // Throws gb::Error naming `source` if a byte token or a merge operand/result is missing, or a
  // merge is listed twice.
  ByteLevelBpe(const Vocab& vocab, const std::vector<MergeText>& merges, const std::string& source);

  ModelKind kind() const override { return ModelKind::ByteLevelBpe; }
  void encode(std::string_view text, std::vector<int32_t>& out) const override;

  // Applies the merges to the bytes of one pre-tokenised piece.
  void encode_piece(std::string_view piece, std::vector<int32_t>& ids, MergeScratch& s) const;

 private:
  std::array<int32_t, 256> byte_ids_{};  // token of each single byte
  MergeTable merges_;
};

// The bytes a byte-level token text stands for (characters that are not byte characters are
// kept as their UTF-8).
std::string byte_level_decode(std::string_view token_text);

}  // namespace gb::tok
