// Tokenizer <-> GGUF metadata (the tokenizer.ggml.* keys of llama.cpp).
#include <algorithm>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gb::tok {
namespace {

// Pre-tokenisers (tokenizer.ggml.pre) that use GPT-2's regular expression.
constexpr std::string_view kGpt2Pretokenizers[] = {
    "gpt-2",      "default",    "phi-2",        "jina-es",     "jina-de", "jina-v1-en",
    "jina-v2-es", "jina-v2-de", "jina-v2-code", "roberta-bpe", "gigachat"};

std::optional<int32_t> special_id(const io::GgufFile& f, const std::string& key, int32_t n) {
  const auto v = f.get_int(key);
  if (!v) return std::nullopt;
  if (*v < 0 || *v >= n)
    fail(f.path(), ": ", key, ": token id ", *v, " is outside the vocabulary of ", n, " tokens");
  return int32_t(*v);
}

std::vector<MergeText> parse_merges(const io::GgufFile& f, const std::string& key) {
  std::vector<MergeText> out;
  const auto lines = f.get_strings(key);
  out.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    const size_t space = line.find(' ', 1);
    if (space == std::string::npos || space + 1 >= line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      fail(f.path(), ": ", key, "[", i, "] = '", line, "' is not two tokens separated by a space");
    out.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return out;
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const io::GgufFile& f) {
  const std::string& path = f.path();
  TokenizerSpec spec;
  spec.source = path;
  const auto model = f.get_string("tokenizer.ggml.model");
  if (!model) fail(path, ": missing metadata tokenizer.ggml.model (the file has no tokenizer)");
  if (*model == "gpt2") {
    spec.kind = ModelKind::ByteLevelBpe;
    const auto pre = f.get_string("tokenizer.ggml.pre");
    if (pre && std::ranges::find(kGpt2Pretokenizers, *pre) == std::end(kGpt2Pretokenizers))
      fail(path, ": tokenizer.ggml.pre = '", *pre,
           "': only GPT-2's pre-tokeniser is supported (gpt-2 and the models that share it)");
  } else if (*model == "llama") {
    spec.kind = ModelKind::SentencePieceBpe;
  } else {
    fail(path, ": tokenizer.ggml.model = '", *model, "' is not supported (supported: gpt2, llama)");
  }

  Vocab& v = spec.vocab;
  v.tokens = f.get_strings("tokenizer.ggml.tokens");
  if (v.tokens.empty()) fail(path, ": missing or empty metadata tokenizer.ggml.tokens");
  const auto n = int32_t(std::min<size_t>(v.tokens.size(), INT32_MAX));
  v.scores = f.get_floats("tokenizer.ggml.scores");
  // Type 0 ("undefined" in llama.cpp) is read as normal.
  for (int32_t t : f.get_ints("tokenizer.ggml.token_type"))
    v.types.push_back(TokenType(t == 0 ? 1 : t));
  v.bos = special_id(f, "tokenizer.ggml.bos_token_id", n);
  v.eos = special_id(f, "tokenizer.ggml.eos_token_id", n);
  v.unk = special_id(f, "tokenizer.ggml.unknown_token_id", n);
  v.pad = special_id(f, "tokenizer.ggml.padding_token_id", n);
  const bool spm = spec.kind == ModelKind::SentencePieceBpe;
  v.add_bos = f.get_bool("tokenizer.ggml.add_bos_token").value_or(spm);
  v.add_eos = f.get_bool("tokenizer.ggml.add_eos_token").value_or(false);
  if (spm) {
    spec.sentencepiece.add_dummy_prefix =
        f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    spec.sentencepiece.remove_extra_whitespaces =
        f.get_bool("tokenizer.ggml.remove_extra_whitespaces").value_or(false);
    if (!v.unk && v.types.size() == v.tokens.size()) {
      const auto it = std::ranges::find(v.types, TokenType::Unknown);
      if (it != v.types.end()) v.unk = int32_t(it - v.types.begin());
    }
  } else {
    spec.merges = parse_merges(f, "tokenizer.ggml.merges");
    if (spec.merges.empty()) fail(path, ": missing or empty metadata tokenizer.ggml.merges");
  }
  spec.vocab_source = path + ": tokenizer.ggml.tokens";
  spec.merges_source = path + ": tokenizer.ggml.merges";
  return std::make_unique<Tokenizer>(std::move(spec));
}

void Tokenizer::write_gguf(io::GgufWriter& w) const {
  using io::GgufValue;
  const Vocab& v = spec_.vocab;
  const bool spm = spec_.kind == ModelKind::SentencePieceBpe;
  w.set("tokenizer.ggml.model", GgufValue::string(std::string(model_name())));
  if (!spm) w.set("tokenizer.ggml.pre", GgufValue::string("gpt-2"));
  w.set("tokenizer.ggml.tokens", GgufValue::strings(v.tokens));
  if (!v.scores.empty() || spm) {
    std::vector<float> scores(v.tokens.size());
    for (int32_t id = 0; id < v.size(); ++id) scores[size_t(id)] = v.score(id);
    w.set("tokenizer.ggml.scores", GgufValue::f32s(scores));
  }
  std::vector<int32_t> types;
  for (TokenType t : v.types) types.push_back(int32_t(t));
  w.set("tokenizer.ggml.token_type", GgufValue::i32s(types));
  if (!spm) {
    std::vector<std::string> merges;
    merges.reserve(spec_.merges.size());
    for (const auto& [a, b] : spec_.merges) merges.push_back(a + " " + b);
    w.set("tokenizer.ggml.merges", GgufValue::strings(merges));
  }
  const auto put_id = [&](const char* key, std::optional<int32_t> id) {
    if (id) w.set(key, GgufValue::u32(uint32_t(*id)));
  };
  put_id("tokenizer.ggml.bos_token_id", v.bos);
  put_id("tokenizer.ggml.eos_token_id", v.eos);
  put_id("tokenizer.ggml.unknown_token_id", v.unk);
  put_id("tokenizer.ggml.padding_token_id", v.pad);
  w.set("tokenizer.ggml.add_bos_token", GgufValue::boolean(v.add_bos));
  w.set("tokenizer.ggml.add_eos_token", GgufValue::boolean(v.add_eos));
  if (spm) {
    w.set("tokenizer.ggml.add_space_prefix",
          GgufValue::boolean(spec_.sentencepiece.add_dummy_prefix));
    w.set("tokenizer.ggml.remove_extra_whitespaces",
          GgufValue::boolean(spec_.sentencepiece.remove_extra_whitespaces));
  }
}

}  // namespace gb::tok
