// Tokenizer unit tests on small hand-made vocabularies: the expected results follow from the
// algorithms' definitions by hand. Parity with the reference libraries on real vocabularies is
// checked by tests/reference/test_tokenizer_*.py.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/gpt2_pretokenizer.h"
#include "tokenizer/utf8.h"

namespace gb::tok {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split(std::string_view text) {
  std::vector<std::string_view> pieces;
  gpt2_pretokenize(text, pieces);
  return {pieces.begin(), pieces.end()};
}

using Pieces = std::vector<std::string>;

TEST(Gpt2Pretokenizer, FollowsTheRegex) {
  EXPECT_EQ(split("Hello world"), (Pieces{"Hello", " world"}));
  EXPECT_EQ(split("a  b"), (Pieces{"a", " ", " b"}));  // \s+(?!\S) leaves one space to " b"
  EXPECT_EQ(split("x   "), (Pieces{"x", "   "}));      // trailing run stays whole
  EXPECT_EQ(split("\t\tx"), (Pieces{"\t", "\t", "x"}));
  EXPECT_EQ(split(" \tx"), (Pieces{" ", "\t", "x"}));  // only ' ' joins the next word
  EXPECT_EQ(split("I'm don't"), (Pieces{"I", "'m", " don", "'t"}));
  EXPECT_EQ(split("'S'll"), (Pieces{"'", "S", "'ll"}));  // contractions are lower case only
  EXPECT_EQ(split("abc123def"), (Pieces{"abc", "123", "def"}));
  EXPECT_EQ(split(" 123 !!! ?"), (Pieces{" 123", " !!!", " ?"}));
  EXPECT_EQ(split("x\u00a0y"), (Pieces{"x", "\u00a0", "y"}));  // NBSP: space, not ' '
  EXPECT_EQ(split("\u0444\u0443 \u4e2d\u6587"), (Pieces{"\u0444\u0443", " \u4e2d\u6587"}));
  EXPECT_EQ(split("\u00b2\u2167x"), (Pieces{"\u00b2\u2167", "x"}));  // No and Nl are numbers
  EXPECT_EQ(split("a\xff\xfe!b"), (Pieces{"a", "\xff\xfe!", "b"}));  // invalid bytes: "other"
  EXPECT_EQ(split(""), Pieces{});
}

TEST(Utf8, StrictDecoding) {
  EXPECT_TRUE(decode_utf8("\xe2\x82\xac", 0).valid);
  EXPECT_EQ(decode_utf8("\xe2\x82\xac", 0).cp, U'\u20ac');
  EXPECT_FALSE(decode_utf8("\xc0\xaf", 0).valid);          // overlong
  EXPECT_FALSE(decode_utf8("\xed\xa0\x80", 0).valid);      // surrogate
  EXPECT_FALSE(decode_utf8("\xf4\x90\x80\x80", 0).valid);  // past U+10FFFF
  EXPECT_FALSE(decode_utf8("\xe2\x82", 0).valid);          // truncated
  EXPECT_EQ(utf8_stable_prefix("ab\xe2\x82"), 2u);
  EXPECT_EQ(utf8_stable_prefix("ab\xff"), 3u);
}

// A byte-level vocabulary: the 256 byte characters, then "he", "ll", "hell", "hello",
// "<|endoftext|>" (control), with merges h+e, l+l, he+ll, hell+o.
TokenizerSpec tiny_byte_level() {
  TokenizerSpec spec;
  spec.source = "tiny";
  spec.kind = ModelKind::ByteLevelBpe;
  for (int b = 0; b < 256; ++b) {
    std::string t;
    append_utf8(t, byte_to_unicode(uint8_t(b)));
    spec.vocab.tokens.push_back(t);
  }
  for (const char* t : {"he", "ll", "hell", "hello", "<|endoftext|>"})
    spec.vocab.tokens.push_back(t);
  spec.vocab.types.assign(spec.vocab.tokens.size(), TokenType::Normal);
  spec.vocab.types.back() = TokenType::Control;
  spec.vocab.eos = spec.vocab.bos = int32_t(spec.vocab.tokens.size() - 1);
  spec.merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}};
  return spec;
}

TEST(ByteLevelBpe, MergesByRank) {
  Tokenizer tok(tiny_byte_level());
  EXPECT_EQ(tok.encode("hello"), (std::vector<int32_t>{259}));
  EXPECT_EQ(tok.encode("hel"), (std::vector<int32_t>{256, 'l'}));
  EXPECT_EQ(tok.encode("hellohello"), (std::vector<int32_t>{259, 259}));
  EXPECT_EQ(tok.piece(256), "he");
  EXPECT_EQ(tok.decode(std::vector<int32_t>{259, 'x'}), "hellox");
}

TEST(ByteLevelBpe, EmptyTextAndBos) {
  Tokenizer tok(tiny_byte_level());
  EXPECT_TRUE(tok.encode("").empty());
  EXPECT_EQ(tok.encode("", {.add_bos = true}), (std::vector<int32_t>{260}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{}), "");
}

TEST(ByteLevelBpe, InvalidUtf8RoundTripsThroughByteTokens) {
  Tokenizer tok(tiny_byte_level());
  const std::string text = "he\xff\xfe llo\xe2\x82";
  const auto ids = tok.encode(text);
  EXPECT_EQ(tok.decode(ids), text);
  EXPECT_EQ(tok.piece(ids[1]), "<0xFF>");
}

TEST(ByteLevelBpe, SpecialTokensOnlyOnRequest) {
  Tokenizer tok(tiny_byte_level());
  const auto plain = tok.encode("hello<|endoftext|>");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 260), 0);
  EXPECT_EQ(plain.size(), 1u + 13u);  // "hello", then each character of the tag
  EXPECT_EQ(tok.encode("hello<|endoftext|>he", {.parse_special = true}),
            (std::vector<int32_t>{259, 260, 256}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{259, 260}), "hello<|endoftext|>");
}

TEST(StreamDecoder, HoldsBackSplitCharacters) {
  Tokenizer tok(tiny_byte_level());
  const std::string text = "h\xc3\xa9\xf0\x9f\x98\x80!";  // hé😀!
  const auto ids = tok.encode(text);
  ASSERT_EQ(ids.size(), 8u);
  StreamDecoder d(tok);
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(d.push(id));
  out.push_back(d.finish());
  EXPECT_EQ(out, (std::vector<std::string>{"h", "", "\xc3\xa9", "", "", "", "\xf0\x9f\x98\x80", "!",
                                           ""}));
}

// A SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then pieces with scores.
TokenizerSpec tiny_sentencepiece(bool with_bytes) {
  TokenizerSpec spec;
  spec.source = "tiny-spm";
  spec.kind = ModelKind::SentencePieceBpe;
  Vocab& v = spec.vocab;
  const auto add = [&](std::string t, TokenType type, float score) {
    v.tokens.push_back(std::move(t));
    v.types.push_back(type);
    v.scores.push_back(score);
  };
  add("<unk>", TokenType::Unknown, 0);
  add("<s>", TokenType::Control, 0);
  add("</s>", TokenType::Control, 0);
  if (with_bytes)
    for (int b = 0; b < 256; ++b) add(byte_token_text(uint8_t(b)), TokenType::Byte, 0);
  add("\u2581", TokenType::Normal, -1);
  add("a", TokenType::Normal, -2);
  add("b", TokenType::Normal, -3);
  add("\u2581a", TokenType::Normal, -4);  // merged before "ab" (higher score)
  add("ab", TokenType::Normal, -5);
  add("\u2581ab", TokenType::Normal, -6);
  v.unk = 0;
  v.bos = 1;
  v.eos = 2;
  v.add_bos = true;
  return spec;
}

TEST(SentencePieceBpe, MergesByScoreWithDummyPrefix) {
  Tokenizer tok(tiny_sentencepiece(true));
  const int32_t base = 3 + 256;  // first normal piece
  // "▁ab": ▁+a (score -4) beats a+b (-5), then ▁a+b forms ▁ab.
  EXPECT_EQ(tok.encode("ab"), (std::vector<int32_t>{base + 5}));
  EXPECT_EQ(tok.encode("ab a", {.add_bos = true}), (std::vector<int32_t>{1, base + 5, base + 3}));
  EXPECT_EQ(tok.decode(tok.encode("ab a")), "ab a");  // the dummy ▁ is removed again
  EXPECT_TRUE(tok.encode("").empty());
}

TEST(SentencePieceBpe, ByteFallbackAndInvalidUtf8) {
  Tokenizer tok(tiny_sentencepiece(true));
  const int32_t base = 3 + 256;
  // "é" is not a piece: its bytes C3 A9 become byte tokens (id 3 + byte).
  EXPECT_EQ(tok.encode("a\xc3\xa9"), (std::vector<int32_t>{base + 3, 3 + 0xC3, 3 + 0xA9}));
  // An invalid byte becomes U+FFFD (EF BF BD), as in the sentencepiece library.
  EXPECT_EQ(tok.encode("a\xff"), (std::vector<int32_t>{base + 3, 3 + 0xEF, 3 + 0xBF, 3 + 0xBD}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{3 + 0xC3, 3 + 0xA9, 3 + 0xFF}), "\xc3\xa9\xef\xbf\xbd");
  StreamDecoder d(tok);
  EXPECT_EQ(d.push(3 + 0xC3), "");
  EXPECT_EQ(d.push(3 + 0xA9), "\xc3\xa9");
}

TEST(SentencePieceBpe, RunsOfUnknownCharactersGiveOneUnknownToken) {
  Tokenizer tok(tiny_sentencepiece(false));
  EXPECT_EQ(tok.encode("a\u4e2d\u6587b"), (std::vector<int32_t>{3 + 3, 0, 3 + 2}));
  EXPECT_EQ(tok.decode(std::vector<int32_t>{1, 0}), " \u2047 ");
  EXPECT_EQ(tok.piece(0), "<unk>");
}

TEST(SentencePieceBpe, ControlTokensOnlyOnRequest) {
  Tokenizer tok(tiny_sentencepiece(true));
  const auto plain = tok.encode("<s>a");
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 1), 0);
  const auto special = tok.encode("<s>a", {.parse_special = true});
  EXPECT_EQ(special, (std::vector<int32_t>{1, 3 + 256 + 3}));  // <s>, then "▁a"
}

// --- bad input ---------------------------------------------------------------------------

TEST(TokenizerErrors, DuplicateTokens) {
  TokenizerSpec spec = tiny_byte_level();
  spec.vocab.tokens[257] = "he";
  EXPECT_THROW(
      {
        try {
          Tokenizer tok(std::move(spec));
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("duplicate token 'he' (ids 256 and 257)"),
                    std::string::npos)
              << e.what();
          throw;
        }
      },
      Error);
}

TEST(TokenizerErrors, MergeWithUnknownToken) {
  TokenizerSpec spec = tiny_byte_level();
  spec.merges.push_back({"hello", "x"});
  try {
    Tokenizer tok(std::move(spec));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(
        std::string(e.what()).find("merge 4 'hello x': token 'hellox' is not in the vocabulary"),
        std::string::npos)
        << e.what();
  }
}

TEST(TokenizerErrors, MissingByteToken) {
  TokenizerSpec spec = tiny_byte_level();
  spec.vocab.tokens[10] = "zz";
  EXPECT_THROW(Tokenizer tok(std::move(spec)), Error);
}

TEST(TokenizerErrors, DecodeOutOfRange) {
  Tokenizer tok(tiny_byte_level());
  EXPECT_THROW(tok.decode(std::vector<int32_t>{1, 261}), Error);
  EXPECT_THROW(tok.decode(std::vector<int32_t>{-1}), Error);
  EXPECT_THROW(tok.piece(5000), Error);
  StreamDecoder d(tok);
  EXPECT_THROW(d.push(261), Error);
}

fs::path temp_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("gb_tokenizer_test_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenizerErrors, HuggingFaceFolders) {
  const fs::path d = temp_dir("hf");
  EXPECT_NE(error_of([&] { Tokenizer::from_hf_dir(d.string()); }).find("no tokenizer.json"),
            std::string::npos);
  write(d / "vocab.json", R"({"a": 0, "b": 2})");
  write(d / "merges.txt", "#version: 0.2\n");
  EXPECT_NE(error_of([&] { Tokenizer::from_hf_dir(d.string()); }).find("ids must be 0..1"),
            std::string::npos);
  write(d / "vocab.json", R"({"a": 0, "b": 0})");
  EXPECT_NE(error_of([&] { Tokenizer::from_hf_dir(d.string()); }).find("id 0 is used by both"),
            std::string::npos);
  write(d / "vocab.json", "{not json");
  EXPECT_NE(error_of([&] { Tokenizer::from_hf_dir(d.string()); }).find("not valid JSON"),
            std::string::npos);
  write(d / "tokenizer.json", R"({"model": {"type": "Unigram", "vocab": []}})");
  EXPECT_NE(error_of([&] { Tokenizer::from_hf_dir(d.string()); }).find("only BPE"),
            std::string::npos);
}

// The tiny byte-level vocabulary as vocab.json + merges.txt.
fs::path write_hf(const fs::path& d, const TokenizerSpec& spec, const std::string& extra_merge) {
  std::string vocab = "{";
  for (size_t i = 0; i < spec.vocab.tokens.size(); ++i) {
    std::string t;
    for (char c : spec.vocab.tokens[i]) {
      if (c == '"' || c == '\\') t += '\\';
      t += c;
    }
    vocab += (i ? ", \"" : "\"") + t + "\": " + std::to_string(i);
  }
  write(d / "vocab.json", vocab + "}");
  std::string merges = "#version: 0.2\n";
  for (const auto& [a, b] : spec.merges) merges += a + " " + b + "\n";
  write(d / "merges.txt", merges + extra_merge);
  return d;
}

TEST(TokenizerErrors, MergesFileNamesTheLine) {
  const fs::path d = write_hf(temp_dir("merges"), tiny_byte_level(), "he zz\n");
  const std::string e = error_of([&] { Tokenizer::from_hf_dir(d.string()); });
  EXPECT_NE(e.find("merges.txt: merge 4 'he zz': token 'zz' is not in the vocabulary"),
            std::string::npos)
      << e;
  write(d / "merges.txt", "#version: 0.2\nh e\nnospace\n");
  EXPECT_NE(error_of([&] { Tokenizer::from_hf_dir(d.string()); }).find("line 3 'nospace'"),
            std::string::npos);
}

TEST(ByteLevelBpe, HuggingFaceConfigNamesSpecialTokensByText) {
  const fs::path d = write_hf(temp_dir("hfconfig"), tiny_byte_level(), "");
  write(d / "tokenizer_config.json",
        R"({"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "add_bos_token": true})");
  const auto t = Tokenizer::from_hf_dir(d.string());
  EXPECT_EQ(t->bos(), 260);
  EXPECT_TRUE(t->add_bos_default());
}

TEST(TokenizerGguf, WriteAndReadBack) {
  const fs::path d = temp_dir("gguf");
  const auto hf = Tokenizer::from_hf_dir(write_hf(d, tiny_byte_level(), "").string());
  EXPECT_EQ(hf->bos(), 260);  // <|endoftext|> by GPT-2's convention
  for (const auto* t : {hf.get()}) {
    io::GgufWriter w((d / "tok.gguf").string());
    t->write_gguf(w);
    w.write();
  }
  const auto back = Tokenizer::from_gguf(io::GgufFile::open((d / "tok.gguf").string()));
  EXPECT_EQ(back->model_name(), "gpt2");
  EXPECT_EQ(back->vocab().tokens, hf->vocab().tokens);
  EXPECT_EQ(back->bos(), hf->bos());
  EXPECT_EQ(back->add_bos_default(), hf->add_bos_default());
  for (std::string_view text : {"hello hello", "hel\xff<|endoftext|>", ""}) {
    EXPECT_EQ(back->encode(text), hf->encode(text));
    EXPECT_EQ(back->encode(text, {.parse_special = true}),
              hf->encode(text, {.parse_special = true}));
  }

  Tokenizer spm(tiny_sentencepiece(true));
  {
    io::GgufWriter w((d / "spm.gguf").string());
    spm.write_gguf(w);
    w.write();
  }
  const auto spm_back = Tokenizer::from_gguf(io::GgufFile::open((d / "spm.gguf").string()));
  EXPECT_EQ(spm_back->model_name(), "llama");
  EXPECT_TRUE(spm_back->add_bos_default());
  EXPECT_EQ(spm_back->encode("ab a\xc3\xa9"), spm.encode("ab a\xc3\xa9"));
}

TEST(TokenizerGguf, BadMetadataNamesFileAndKey) {
  const fs::path d = temp_dir("gguf_bad");
  const auto write_meta = [&](std::vector<std::pair<std::string, io::GgufValue>> kv) {
    io::GgufWriter w((d / "bad.gguf").string());
    for (auto& [k, v] : kv) w.set(k, std::move(v));
    w.write();
    return io::GgufFile::open((d / "bad.gguf").string());
  };
  using io::GgufValue;
  EXPECT_NE(error_of([&] { Tokenizer::from_gguf(write_meta({})); }).find("tokenizer.ggml.model"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] {
        Tokenizer::from_gguf(write_meta({{"tokenizer.ggml.model", GgufValue::string("bert")}}));
      }).find("'bert' is not supported"),
      std::string::npos);
  const std::string e = error_of([&] {
    Tokenizer::from_gguf(write_meta({{"tokenizer.ggml.model", GgufValue::string("llama")},
                                     {"tokenizer.ggml.tokens", GgufValue::strings({"a", "b"})},
                                     {"tokenizer.ggml.bos_token_id", GgufValue::u32(7)}}));
  });
  EXPECT_NE(e.find("bad.gguf: tokenizer.ggml.bos_token_id: token id 7 is outside"),
            std::string::npos)
      << e;
  const std::string dup = error_of([&] {
    Tokenizer::from_gguf(write_meta({{"tokenizer.ggml.model", GgufValue::string("llama")},
                                     {"tokenizer.ggml.tokens", GgufValue::strings({"a", "a"})}}));
  });
  EXPECT_NE(dup.find("bad.gguf: tokenizer.ggml.tokens: duplicate token 'a'"), std::string::npos)
      << dup;
}

}  // namespace
}  // namespace gb::tok
