// Text <-> token ids, with exact parity to the reference tokenizers:
//  - byte-level BPE (GPT-2 family; GGUF tokenizer.ggml.model = "gpt2", or Hugging Face
//    vocab.json + merges.txt / tokenizer.json with a ByteLevel pre-tokenizer);
//  - SentencePiece-style BPE (Llama family; GGUF "llama", or a tokenizer.json BPE model with ▁
//    and byte fallback).
//
// Behaviour at the edges (documented and tested):
//  - Special tokens written in the text (<s>, <|endoftext|>: type "control") are recognised only
//    with EncodeOptions::parse_special; otherwise they are ordinary text. User-defined tokens
//    are always recognised.
//  - Invalid UTF-8 in the text: byte-level BPE keeps every byte (each invalid byte is an "other"
//    character for the pre-tokeniser and encodes through its byte token, so decode gives the
//    input back exactly). SentencePiece-style BPE does what the sentencepiece library does: each
//    invalid byte becomes U+FFFD, which then encodes normally (usually through byte tokens).
//  - An empty text encodes to no tokens (plus bos/eos if asked for).
//  - decode() throws gb::Error for an id outside the vocabulary. Byte-level decode returns the
//    exact bytes (possibly invalid UTF-8); SentencePiece decode follows the library: control
//    tokens print nothing, the unknown token prints " ⁇ ", invalid UTF-8 from byte tokens
//    becomes U+FFFD per byte, and the ▁ added in front of the text is removed.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "io/gguf.h"
#include "tokenizer/model.h"
#include "tokenizer/sentencepiece_bpe.h"
#include "tokenizer/token_matcher.h"
#include "tokenizer/vocab.h"

namespace gb::tok {

struct EncodeOptions {
  bool add_bos = false;
  bool add_eos = false;
  bool parse_special = false;  // recognise control tokens (<s>, <|endoftext|>) written in the text
};

// Everything that defines a tokenizer, as loaded from a file.
struct TokenizerSpec {
  std::string source;         // file or folder it came from, for messages
  std::string vocab_source;   // where the tokens are, e.g. "m.gguf: tokenizer.ggml.tokens"
  std::string merges_source;  // where the merges are, e.g. "gpt2/merges.txt"
  ModelKind kind = ModelKind::ByteLevelBpe;
  Vocab vocab;
  std::vector<MergeText> merges;       // byte-level BPE only, in rank order
  SentencePieceOptions sentencepiece;  // SentencePiece-style only
};

class Tokenizer {
 public:
  // tokenizer.ggml.* metadata; throws gb::Error naming the file and key on a bad vocabulary.
  static std::unique_ptr<Tokenizer> from_gguf(const io::GgufFile& f);
  // A Hugging Face folder: tokenizer.json, or vocab.json + merges.txt.
  static std::unique_ptr<Tokenizer> from_hf_dir(const std::string& dir);
  // A .gguf file or a Hugging Face folder.
  static std::unique_ptr<Tokenizer> open(const std::string& path);

  explicit Tokenizer(TokenizerSpec spec);  // validates; throws gb::Error naming spec.source
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;

  std::vector<int32_t> encode(std::string_view text, const EncodeOptions& o = {}) const;
  std::string decode(std::span<const int32_t> ids) const;
  // Human-readable label of one token for tables and the viewer: the text it decodes to
  // (spaces as spaces), bytes that are not valid UTF-8 on their own as <0xNN>, and control,
  // unknown and byte tokens by their name (<s>, <unk>, <0x0A>).
  std::string piece(int32_t id) const;

  int32_t vocab_size() const { return spec_.vocab.size(); }
  std::optional<int32_t> bos() const { return spec_.vocab.bos; }
  std::optional<int32_t> eos() const { return spec_.vocab.eos; }
  bool add_bos_default() const { return spec_.vocab.add_bos; }
  bool add_eos_default() const { return spec_.vocab.add_eos; }
  ModelKind kind() const { return spec_.kind; }
  std::string_view model_name() const;  // "gpt2" or "llama", as in GGUF
  const Vocab& vocab() const { return spec_.vocab; }
  const std::string& source() const { return spec_.source; }

  // Writes tokenizer.ggml.* so that from_gguf() gives back this tokenizer.
  void write_gguf(io::GgufWriter& w) const;

 private:
  friend class StreamDecoder;
  void check_id(int32_t id) const;

  TokenizerSpec spec_;
  std::unique_ptr<Model> model_;
  TokenMatcher always_;      // user-defined tokens (byte-level; SentencePiece matches its own)
  TokenMatcher on_request_;  // the above plus control and unknown tokens
  std::vector<std::string> decoded_;  // [n_vocab] bytes each token contributes to decoded text
};

// Decodes ids one at a time, as they are generated: push() returns only bytes that end on a
// character boundary, holding back the start of a multi-byte character split across tokens.
// The concatenation of all push() results and finish() equals Tokenizer::decode of the ids.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer) : tok_(tokenizer) {}
  std::string push(int32_t id);  // throws gb::Error for an id outside the vocabulary
  std::string finish();          // whatever is held back (invalid if incomplete)

 private:
  void drain(std::string& out, bool final);

  const Tokenizer& tok_;
  std::string pending_;   // bytes of a character not yet complete
  bool emitted_ = false;  // SentencePiece: some text has been produced
  bool at_start_ = true;  // SentencePiece: the leading ▁ may still be removed
  bool removed_space_ = false;
};

}  // namespace gb::tok
