#include "tokenizer/byte_level_bpe.h"

#include "core/error.h"
#include "tokenizer/gpt2_pretokenizer.h"
#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

bool maps_to_itself(int b) {
  return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
}

constexpr int kNotAByte = -1;

}  // namespace

char32_t byte_to_unicode(uint8_t byte) {
  if (maps_to_itself(byte)) return byte;
  int n = 0;  // rank of `byte` among the bytes that do not map to themselves
  for (int b = 0; b < byte; ++b) n += maps_to_itself(b) ? 0 : 1;
  return char32_t(256 + n);
}

int byte_from_unicode(char32_t cp) {
  if (cp < 256) return maps_to_itself(int(cp)) ? int(cp) : kNotAByte;
  if (cp >= 256 + 68) return kNotAByte;  // 68 bytes do not map to themselves
  int n = int(cp) - 256;
  for (int b = 0; b < 256; ++b)
    if (!maps_to_itself(b) && n-- == 0) return b;
  return kNotAByte;
}

std::string byte_level_decode(std::string_view token_text) {
  std::string out;
  for (size_t pos = 0; pos < token_text.size();) {
    const Utf8Char c = decode_utf8(token_text, pos);
    const int b = c.valid ? byte_from_unicode(c.cp) : kNotAByte;
    if (b != kNotAByte)
      out += char(b);
    else
      out.append(token_text.substr(pos, c.length));
    pos += c.length;
  }
  return out;
}

ByteLevelBpe::ByteLevelBpe(const Vocab& vocab, const std::vector<MergeText>& merges,
                           const std::string& source) {
  for (int b = 0; b < 256; ++b) {
    std::string text;
    append_utf8(text, byte_to_unicode(uint8_t(b)));
    const auto id = vocab.find(text);
    if (!id)
      fail(source, ": byte-level vocabulary has no token for byte 0x", std::hex, b, " ('", text,
           "')");
    byte_ids_[size_t(b)] = *id;
  }
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    const auto context = [&] { return cat(source, ": merge ", rank, " '", a, " ", b, "'"); };
    const auto left = vocab.find(a), right = vocab.find(b), merged = vocab.find(a + b);
    if (!left) fail(context(), ": token '", a, "' is not in the vocabulary");
    if (!right) fail(context(), ": token '", b, "' is not in the vocabulary");
    if (!merged) fail(context(), ": token '", a + b, "' is not in the vocabulary");
    if (!merges_.add(*left, *right, {.rank = int32_t(rank), .merged = *merged}))
      fail(context(), ": the pair is listed twice");
  }
}

void ByteLevelBpe::encode_piece(std::string_view piece, std::vector<int32_t>& ids,
                                MergeScratch& s) const {
  ids.clear();
  for (char c : piece) ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
  merges_.apply(ids, s);
}

void ByteLevelBpe::encode(std::string_view text, std::vector<int32_t>& out) const {
  std::vector<std::string_view> pieces;
  gpt2_pretokenize(text, pieces);
  MergeScratch scratch;
  std::vector<int32_t> ids;
  for (std::string_view piece : pieces) {
    encode_piece(piece, ids, scratch);
    out.insert(out.end(), ids.begin(), ids.end());
  }
}

}  // namespace gb::tok
