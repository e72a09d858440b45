#include "tokenizer/sentencepiece_bpe.h"

#include <algorithm>
#include <unordered_map>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";        // ▁ U+2581
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

bool mergeable(TokenType t) {
  return t == TokenType::Normal || t == TokenType::UserDefined || t == TokenType::Unused;
}

bool starts_with_space(std::string_view s, size_t pos) {
  return s.substr(pos, 3) == kSpace;
}

// True if `piece` holds ▁ right after a character that is not ▁.
bool space_after_other(std::string_view piece) {
  for (size_t p = piece.find(kSpace, 1); p != std::string_view::npos; p = piece.find(kSpace, p + 1))
    if (p < 3 || piece.substr(p - 3, 3) != kSpace) return true;
  return false;
}

// Byte length of the character at s[pos] judged by its lead byte, as sentencepiece does
// (normalised text is valid UTF-8 outside user-defined tokens).
size_t char_length(std::string_view s, size_t pos) {
  static constexpr unsigned char lengths[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  const size_t n = lengths[static_cast<unsigned char>(s[pos]) >> 4];
  return std::min(n, s.size() - pos);
}

}  // namespace

// Collects ids, applying byte fallback and merging runs of unknown pieces.
struct SentencePieceBpe::Output {
  struct Symbol {
    int32_t prev, next;
    uint32_t begin, length;  // bytes of the chunk; length 0 once merged into its left neighbour
    int32_t id;              // token with this text, -1 if none
  };
  struct Pair {
    float score;
    int32_t left, right;
    uint32_t length;
    int32_t merged;  // token of the concatenation
  };

  const SentencePieceBpe& model;
  std::vector<int32_t>& ids;
  bool prev_unknown = false;
  size_t unknowns = 0;            // pieces emitted as unknown or byte fallback so far
  std::vector<Symbol> symbols{};  // scratch for encode_chunk, reused
  std::vector<Pair> agenda{};
  // Ids of chunks already seen in this text (chunks without unknown pieces only: those depend
  // on their neighbours when runs of unknown pieces merge).
  std::unordered_map<std::string_view, std::vector<int32_t>> cache{};

  void emit(std::string_view piece, std::optional<int32_t> id) {
    const Vocab& v = model.vocab_;
    const bool unknown = !id || v.type(*id) == TokenType::Unknown;
    unknowns += unknown;
    if (unknown && model.byte_fallback_) {
      for (char c : piece) ids.push_back(byte_id(static_cast<unsigned char>(c)));
    } else if (unknown) {
      if (!prev_unknown) ids.push_back(unk_id());
    } else {
      ids.push_back(*id);
    }
    prev_unknown = unknown;
  }
  int32_t byte_id(unsigned char b) const {
    const auto& id = model.byte_ids_[b];
    return id ? *id : unk_id();
  }
  int32_t unk_id() const {
    if (!model.vocab_.unk)
      fail("the text needs the unknown token, but the vocabulary has none (and no byte tokens)");
    return *model.vocab_.unk;
  }
};

SentencePieceBpe::SentencePieceBpe(const Vocab& vocab, SentencePieceOptions options)
    : vocab_(vocab), options_(options) {
  for (int32_t id = 0; id < vocab.size(); ++id) {
    const TokenType t = vocab.type(id);
    const std::string& text = vocab.tokens[size_t(id)];
    if (t == TokenType::UserDefined) user_defined_.add(text, id);
    if (t == TokenType::Unused) has_unused_ = true;
    if (mergeable(t) && space_after_other(text)) chunkable_ = false;
  }
  for (int c = 0; c < 128; ++c)
    char_ids_[size_t(c)] = vocab.find(std::string(1, char(c))).value_or(-1);
  // Pair table: every split of a mergeable piece into two tokens (at character boundaries).
  for (int32_t id = 0; id < vocab.size(); ++id) {
    if (!mergeable(vocab.type(id))) continue;
    const std::string_view text = vocab.tokens[size_t(id)];
    for (size_t k = char_length(text, 0); k < text.size(); k += char_length(text, k)) {
      const auto left = vocab.find(text.substr(0, k)), right = vocab.find(text.substr(k));
      if (left && right) pairs_.add(*left, *right, {.rank = 0, .merged = id});
    }
  }
  for (int b = 0; b < 256; ++b) {
    const auto id = vocab.find(byte_token_text(uint8_t(b)));
    if (id && vocab.type(*id) == TokenType::Byte) {
      byte_ids_[size_t(b)] = id;
      byte_fallback_ = true;
    }
  }
}

std::string SentencePieceBpe::normalize(std::string_view text) const {
  const bool collapse = options_.remove_extra_whitespaces;
  std::string out;
  size_t pos = 0;
  if (collapse)
    while (pos < text.size() && text[pos] == ' ') ++pos;
  if (pos == text.size()) return out;
  out.reserve((text.size() - pos) * 3 / 2 + 3);
  if (options_.add_dummy_prefix) out += kSpace;
  bool prev_space = collapse;
  while (pos < text.size()) {
    // The next character (or user-defined token, copied as is), as sentencepiece sees it.
    std::string_view c;
    if (static_cast<unsigned char>(text[pos]) < 0x80 && user_defined_.empty()) {
      c = text.substr(pos++, 1);
    } else if (auto m = user_defined_.match(text, pos)) {
      c = text.substr(pos, m->length);
      pos += m->length;
    } else if (const Utf8Char u = decode_utf8(text, pos); u.valid) {
      c = text.substr(pos, u.length);
      pos += u.length;
    } else {
      c = kReplacement;
      pos += 1;
    }
    while (prev_space && !c.empty() && c[0] == ' ') c.remove_prefix(1);
    if (c.empty()) continue;
    for (char ch : c) {
      if (ch == ' ')
        out += kSpace;
      else
        out += ch;
    }
    prev_space = collapse && c.back() == ' ';
  }
  if (collapse)
    while (out.size() >= 3 && out.compare(out.size() - 3, 3, kSpace) == 0)
      out.resize(out.size() - 3);
  return out;
}

void SentencePieceBpe::encode(std::string_view text, std::vector<int32_t>& ids) const {
  const std::string normalized = normalize(text);
  Output out{.model = *this, .ids = ids};
  std::string_view rest = normalized;
  // User-defined tokens are frozen symbols: segment the text between them.
  size_t start = 0;
  for (size_t pos = 0; pos < rest.size() && !user_defined_.empty();) {
    if (auto m = user_defined_.match(rest, pos)) {
      encode_span(rest.substr(start, pos - start), out);
      out.emit(rest.substr(pos, m->length), m->id);
      pos += m->length;
      start = pos;
    } else {
      pos += char_length(rest, pos);
    }
  }
  encode_span(rest.substr(start), out);
}

void SentencePieceBpe::encode_span(std::string_view span, Output& out) const {
  if (!chunkable_) return encode_chunk(span, out);
  const auto encode_cached = [&](std::string_view chunk) {
    if (auto it = out.cache.find(chunk); it != out.cache.end()) {
      out.ids.insert(out.ids.end(), it->second.begin(), it->second.end());
      out.prev_unknown = false;
      return;
    }
    const size_t first = out.ids.size(), unknowns = out.unknowns;
    encode_chunk(chunk, out);
    if (out.unknowns == unknowns)
      out.cache.emplace(chunk,
                        std::vector<int32_t>(out.ids.begin() + ptrdiff_t(first), out.ids.end()));
  };
  size_t start = 0;
  for (size_t pos = 0; pos < span.size(); pos += char_length(span, pos)) {
    if (pos > start && starts_with_space(span, pos) &&
        !(pos >= 3 && starts_with_space(span, pos - 3))) {
      encode_cached(span.substr(start, pos - start));
      start = pos;
    }
  }
  encode_cached(span.substr(start));
}

void SentencePieceBpe::encode_chunk(std::string_view chunk, Output& out) const {
  if (chunk.empty()) return;
  using Symbol = Output::Symbol;
  using Pair = Output::Pair;
  // Highest score first; among equal scores the leftmost pair (std heaps put the "largest" on top).
  const auto worse = [](const Pair& a, const Pair& b) {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  };
  auto& symbols = out.symbols;  // [n_chars]
  auto& agenda = out.agenda;
  symbols.clear();
  agenda.clear();
  for (size_t pos = 0; pos < chunk.size();) {
    const size_t n = char_length(chunk, pos);
    const auto i = int32_t(symbols.size());
    const auto byte = static_cast<unsigned char>(chunk[pos]);
    const int32_t id =
        byte < 0x80 ? char_ids_[byte] : vocab_.find(chunk.substr(pos, n)).value_or(-1);
    symbols.push_back({i - 1, -1, uint32_t(pos), uint32_t(n), id});
    if (i > 0) symbols[size_t(i - 1)].next = i;
    pos += n;
  }
  // For pieces of type "unused": the two parts they were last formed from.
  std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>> parts;
  const auto text_of = [&](const Symbol& s) { return chunk.substr(s.begin, s.length); };
  const auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const Symbol& l = symbols[size_t(left)];
    const Symbol& r = symbols[size_t(right)];
    const std::string_view piece = chunk.substr(l.begin, l.length + r.length);
    std::optional<int32_t> id;
    if (l.id >= 0 && r.id >= 0) {
      if (const MergeRule* rule = pairs_.find(l.id, r.id)) id = rule->merged;
    } else if (auto found = vocab_.find(piece); found && mergeable(vocab_.type(*found))) {
      id = found;
    }
    if (!id) return;
    agenda.push_back({vocab_.score(*id), left, right, uint32_t(piece.size()), *id});
    std::push_heap(agenda.begin(), agenda.end(), worse);
    if (vocab_.type(*id) == TokenType::Unused) parts[piece] = {text_of(l), text_of(r)};
  };
  for (size_t i = 1; i < symbols.size(); ++i) consider(int32_t(i - 1), int32_t(i));

  while (!agenda.empty()) {
    std::pop_heap(agenda.begin(), agenda.end(), worse);
    const Pair top = agenda.back();
    agenda.pop_back();
    Symbol& l = symbols[size_t(top.left)];
    Symbol& r = symbols[size_t(top.right)];
    if (l.length == 0 || r.length == 0 || l.length + r.length != top.length) continue;  // stale
    l.length += r.length;
    l.id = top.merged;
    l.next = r.next;
    if (r.next >= 0) symbols[size_t(r.next)].prev = top.left;
    r.length = 0;
    consider(l.prev, top.left);
    consider(top.left, l.next);
  }

  const auto resegment = [&](auto&& self, std::string_view piece) -> void {
    const auto id = vocab_.find(piece);
    if (has_unused_ && id && vocab_.type(*id) == TokenType::Unused) {
      if (auto it = parts.find(piece); it != parts.end()) {
        self(self, it->second.first);
        self(self, it->second.second);
        return;
      }
    }
    out.emit(piece, id);
  };
  for (int32_t i = 0; i >= 0; i = symbols[size_t(i)].next) {
    const Symbol& sym = symbols[size_t(i)];
    if (has_unused_)
      resegment(resegment, text_of(sym));
    else
      out.emit(text_of(sym), sym.id >= 0 ? std::optional<int32_t>(sym.id) : std::nullopt);
  }
}

}  // namespace gb::tok
