#include "tokenizer/tokenizer.h"

#include <filesystem>

#include "core/error.h"
#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";             // ▁
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ ", as sentencepiece prints

std::string replace_spaces(std::string_view text) {
  std::string out;
  for (size_t pos = 0; pos < text.size();) {
    if (text.substr(pos, 3) == kSpace) {
      out += ' ';
      pos += 3;
    } else {
      out += text[pos++];
    }
  }
  return out;
}

// The byte a "<0xNN>" token stands for.
uint8_t byte_of(const std::string& text) {
  return uint8_t(std::stoi(text.substr(3, 2), nullptr, 16));
}

// What a token adds to decoded text.
std::string decoded_text(const Vocab& v, ModelKind kind, int32_t id) {
  const std::string& text = v.tokens[size_t(id)];
  const TokenType t = v.type(id);
  if (kind == ModelKind::ByteLevelBpe) {
    if (t == TokenType::Control || t == TokenType::UserDefined) return text;
    return byte_level_decode(text);
  }
  switch (t) {
    case TokenType::Control:
      return "";
    case TokenType::Unknown:
      return std::string(kUnknownSurface);
    case TokenType::Byte:
      return std::string(1, char(byte_of(text)));
    default:
      return replace_spaces(text);
  }
}

}  // namespace

Tokenizer::Tokenizer(TokenizerSpec spec) : spec_(std::move(spec)) {
  Vocab& v = spec_.vocab;
  if (spec_.vocab_source.empty()) spec_.vocab_source = spec_.source;
  if (spec_.merges_source.empty()) spec_.merges_source = spec_.source;
  v.finalize(spec_.vocab_source);
  const bool byte_level = spec_.kind == ModelKind::ByteLevelBpe;
  if (byte_level)
    model_ = std::make_unique<ByteLevelBpe>(v, spec_.merges, spec_.merges_source);
  else
    model_ = std::make_unique<SentencePieceBpe>(v, spec_.sentencepiece);
  decoded_.resize(size_t(v.size()));
  for (int32_t id = 0; id < v.size(); ++id) {
    const TokenType t = v.type(id);
    const std::string& text = v.tokens[size_t(id)];
    if (t == TokenType::Byte && !byte_level &&
        (text.size() != 6 || text.compare(0, 3, "<0x") != 0 || text[5] != '>' ||
         !std::isxdigit(static_cast<unsigned char>(text[3])) ||
         !std::isxdigit(static_cast<unsigned char>(text[4]))))
      fail(spec_.vocab_source, ": token ", id, " '", text,
           "' has type byte but is not named <0xNN>");
    if (t == TokenType::UserDefined && byte_level) always_.add(text, id);
    if ((t == TokenType::UserDefined && byte_level) || t == TokenType::Control ||
        t == TokenType::Unknown)
      on_request_.add(text, id);
    decoded_[size_t(id)] = decoded_text(v, spec_.kind, id);
  }
}

std::string_view Tokenizer::model_name() const {
  return spec_.kind == ModelKind::ByteLevelBpe ? "gpt2" : "llama";
}

std::vector<int32_t> Tokenizer::encode(std::string_view text, const EncodeOptions& o) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 2);
  if (o.add_bos) {
    if (!bos()) fail(spec_.source, ": cannot add bos: the tokenizer has no bos token");
    ids.push_back(*bos());
  }
  for (const Fragment& f : split_tokens(text, o.parse_special ? on_request_ : always_)) {
    if (f.token)
      ids.push_back(*f.token);
    else
      model_->encode(f.text, ids);
  }
  if (o.add_eos) {
    if (!eos()) fail(spec_.source, ": cannot add eos: the tokenizer has no eos token");
    ids.push_back(*eos());
  }
  return ids;
}

void Tokenizer::check_id(int32_t id) const {
  if (id < 0 || id >= vocab_size())
    fail("token id ", id, " is outside the vocabulary (", vocab_size(), " tokens)");
}

std::string Tokenizer::decode(std::span<const int32_t> ids) const {
  for (int32_t id : ids) check_id(id);
  StreamDecoder d(*this);
  std::string out;
  for (int32_t id : ids) out += d.push(id);
  out += d.finish();
  return out;
}

std::string Tokenizer::piece(int32_t id) const {
  check_id(id);
  const TokenType t = spec_.vocab.type(id);
  if (t == TokenType::Control || t == TokenType::Unknown ||
      (t == TokenType::Byte && spec_.kind == ModelKind::SentencePieceBpe))
    return spec_.vocab.tokens[size_t(id)];
  const std::string& bytes = decoded_[size_t(id)];
  std::string out;
  for (size_t pos = 0; pos < bytes.size();) {
    const Utf8Char c = decode_utf8(bytes, pos);
    if (c.valid)
      out.append(bytes, pos, c.length);
    else
      out += byte_token_text(static_cast<uint8_t>(bytes[pos]));
    pos += c.length;
  }
  return out;
}

std::unique_ptr<Tokenizer> Tokenizer::open(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) return from_hf_dir(path);
  if (!fs::exists(path, ec)) fail(path, ": no such file or folder");
  return from_gguf(io::GgufFile::open(path));
}

}  // namespace gb::tok
