// StreamDecoder: incremental decoding; Tokenizer::decode is built on it.
#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

// SentencePiece: moves the complete characters of `pending_` (bytes from byte tokens) to `out`,
// each invalid byte as U+FFFD; an unfinished character stays unless `final`.
void StreamDecoder::drain(std::string& out, bool final) {
  size_t pos = 0;
  while (pos < pending_.size()) {
    const Utf8Char c = decode_utf8(pending_, pos);
    if (c.valid) {
      out.append(pending_, pos, c.length);
      pos += c.length;
    } else if (!final && utf8_incomplete(std::string_view(pending_).substr(pos))) {
      break;
    } else {
      out += kReplacement;
      pos += 1;
    }
  }
  pending_.erase(0, pos);
}

std::string StreamDecoder::push(int32_t id) {
  tok_.check_id(id);
  const std::string& bytes = tok_.decoded_[size_t(id)];
  std::string out;
  if (tok_.kind() == ModelKind::ByteLevelBpe) {
    // Exact bytes; hold back only the start of a character that may still be completed.
    pending_ += bytes;
    const size_t n = utf8_stable_prefix(pending_);
    out.assign(pending_, 0, n);
    pending_.erase(0, n);
    return out;
  }
  const Vocab& v = tok_.vocab();
  const TokenType t = v.type(id);
  if (t == TokenType::Byte) {
    pending_ += bytes;
    drain(out, false);
    emitted_ = emitted_ || !out.empty();
    return out;
  }
  drain(out, true);
  if (removed_space_ || emitted_ || !out.empty()) at_start_ = false;
  removed_space_ = false;
  std::string_view text = bytes;
  const auto& opt = tok_.spec_.sentencepiece;
  if (at_start_ && t != TokenType::Control && t != TokenType::Unknown &&
      (opt.add_dummy_prefix || opt.remove_extra_whitespaces) &&
      v.tokens[size_t(id)].starts_with("\xE2\x96\x81")) {
    // The ▁ the encoder put in front of the text is not part of it.
    text.remove_prefix(1);
    removed_space_ = !opt.remove_extra_whitespaces;
  }
  out += text;
  emitted_ = emitted_ || !out.empty();
  return out;
}

std::string StreamDecoder::finish() {
  std::string out;
  if (tok_.kind() == ModelKind::ByteLevelBpe)
    out.swap(pending_);
  else
    drain(out, true);
  emitted_ = emitted_ || !out.empty();
  return out;
}

}  // namespace gb::tok
