// SentencePiece-style BPE (Llama family), matching the sentencepiece library's BPE model:
//  1. normalise: spaces become ▁ (U+2581), ▁ is prepended (add_dummy_prefix), runs of spaces are
//     collapsed and trimmed (remove_extra_whitespaces), invalid UTF-8 bytes become U+FFFD; the
//     normalisation rule is the identity (GGUF files do not carry another one);
//  2. split into characters, user-defined tokens kept whole and never merged;
//  3. repeatedly merge the adjacent pair whose concatenation is the vocabulary piece with the
//     highest score (ties: leftmost), until no adjacent pair forms a piece;
//  4. pieces of type "unused" are split back into the two parts they were merged from;
//  5. pieces not in the vocabulary become <0xNN> byte tokens when the vocabulary has them (byte
//     fallback), else the unknown token (one per run of unknown pieces).
#pragma once

#include <array>
#include <optional>

#include "tokenizer/merge_table.h"
#include "tokenizer/model.h"
#include "tokenizer/token_matcher.h"
#include "tokenizer/vocab.h"

namespace gb::tok {

struct SentencePieceOptions {
  bool add_dummy_prefix = true;           // GGUF tokenizer.ggml.add_space_prefix
  bool remove_extra_whitespaces = false;  // GGUF tokenizer.ggml.remove_extra_whitespaces
};

class SentencePieceBpe : public Model {
 public:
  SentencePieceBpe(const Vocab& vocab, SentencePieceOptions options);

  ModelKind kind() const override { return ModelKind::SentencePieceBpe; }
  void encode(std::string_view text, std::vector<int32_t>& out) const override;

  const SentencePieceOptions& options() const { return options_; }
  bool byte_fallback() const { return byte_fallback_; }
  // Step 1 alone (for tests and the viewer).
  std::string normalize(std::string_view text) const;

 private:
  struct Output;
  void encode_span(std::string_view span, Output& out) const;
  void encode_chunk(std::string_view chunk, Output& out) const;

  const Vocab& vocab_;
  SentencePieceOptions options_;
  TokenMatcher user_defined_;
  MergeTable pairs_;                     // (left, right) -> the mergeable piece left+right
  std::array<int32_t, 128> char_ids_{};  // token of each ASCII character, -1 if none
  std::array<std::optional<int32_t>, 256> byte_ids_{};
  bool byte_fallback_ = false;
  bool has_unused_ = false;
  // True if no mergeable piece has ▁ after another character: then text splits into independent
  // chunks at each ▁ that follows a non-▁ character, which keeps the merge heap small.
  bool chunkable_ = true;
};

}  // namespace gb::tok
