// Tokenizer from a Hugging Face folder: tokenizer.json (a BPE model, byte-level or
// SentencePiece-style), or vocab.json + merges.txt (GPT-2 style); special tokens from
// tokenizer_config.json / special_tokens_map.json when present.
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gb::tok {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kSpace = "\xE2\x96\x81";  // ▁

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), ": cannot open");
  return {std::istreambuf_iterator<char>(in), {}};
}

json read_json(const fs::path& path) {
  try {
    return json::parse(read_text(path));
  } catch (const json::exception& e) {
    fail(path.string(), ": not valid JSON (", e.what(), ")");
  }
}

// Tokens indexed by id, from a {"text": id} object; every id in [0, n) exactly once.
std::vector<std::string> tokens_by_id(const json& vocab, size_t extra, const std::string& source) {
  if (!vocab.is_object()) fail(source, ": the vocabulary is not a JSON object of token: id");
  std::vector<std::string> tokens(vocab.size() + extra);
  std::vector<bool> seen(tokens.size());
  for (const auto& [text, id_value] : vocab.items()) {
    if (!id_value.is_number_integer()) fail(source, ": token '", text, "' has no integer id");
    const auto id = id_value.get<int64_t>();
    if (id < 0 || size_t(id) >= vocab.size())
      fail(source, ": token '", text, "' has id ", id, "; ids must be 0..", vocab.size() - 1);
    if (seen[size_t(id)])
      fail(source, ": id ", id, " is used by both '", tokens[size_t(id)], "' and '", text, "'");
    seen[size_t(id)] = true;
    tokens[size_t(id)] = text;
  }
  tokens.resize(vocab.size());
  return tokens;
}

std::vector<MergeText> merges_from_lines(const std::string& text, const std::string& source) {
  std::vector<MergeText> out;
  size_t line_no = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_no == 1 && line.starts_with("#version"))) continue;
    const size_t space = line.find(' ', 1);
    if (space == std::string::npos || space + 1 >= line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      fail(source, ": line ", line_no, " '", line, "' is not two tokens separated by a space");
    out.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return out;
}

std::vector<MergeText> merges_from_json(const json& merges, const std::string& source) {
  if (!merges.is_array()) fail(source, ": model.merges is not an array");
  std::vector<MergeText> out;
  for (size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      continue;
    }
    if (!m.is_string()) fail(source, ": model.merges[", i, "] is neither \"a b\" nor [a, b]");
    const auto line = m.get<std::string>();
    const size_t space = line.find(' ', 1);
    if (space == std::string::npos || space + 1 >= line.size() ||
        line.find(' ', space + 1) != std::string::npos)
      fail(source, ": model.merges[", i, "] = '", line, "' is not two tokens separated by a space");
    out.emplace_back(line.substr(0, space), line.substr(space + 1));
  }
  return out;
}

// A special token as tokenizer_config.json writes it: "text" or {"content": "text", ...}.
std::optional<std::string> token_content(const json& j, const char* key) {
  if (!j.contains(key)) return std::nullopt;
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return std::nullopt;
}

// Collects a json node and, for "Sequence" nodes, its children, by "type".
void collect_types(const json& node, const char* list_key, std::vector<const json*>& out) {
  if (!node.is_object()) return;
  if (node.value("type", "") == "Sequence" && node.contains(list_key)) {
    for (const json& child : node[list_key]) collect_types(child, list_key, out);
    return;
  }
  out.push_back(&node);
}

struct Special {
  std::string text;
  bool special;
};

// Reads tokenizer_config.json / special_tokens_map.json: special ids and add_bos/add_eos.
void apply_config(const fs::path& dir, Vocab& v, std::map<int32_t, Special>& added) {
  json config = json::object();
  for (const char* name : {"special_tokens_map.json", "tokenizer_config.json"}) {
    if (!fs::exists(dir / name)) continue;
    const json j = read_json(dir / name);
    if (j.is_object()) config.update(j);
  }
  if (config.contains("added_tokens_decoder") && config["added_tokens_decoder"].is_object()) {
    for (const auto& [id_text, t] : config["added_tokens_decoder"].items()) {
      const auto content = token_content(t, "content");
      char* end = nullptr;
      const long id = std::strtol(id_text.c_str(), &end, 10);
      if (!content || *end != '\0' || id < 0 || id > INT32_MAX)
        fail((dir / "tokenizer_config.json").string(), ": added_tokens_decoder entry '", id_text,
             "' is not an id with a \"content\" string");
      added.emplace(int32_t(id), Special{*content, t.value("special", false)});
    }
  }
  const auto find_id = [&](const char* key) -> std::optional<int32_t> {
    const auto text = token_content(config, key);
    if (!text) return std::nullopt;
    for (const auto& [id, s] : added)
      if (s.text == *text) return id;
    if (auto id = v.find(*text)) return id;
    fail((dir / "tokenizer_config.json").string(), ": ", key, " '", *text,
         "' is not in the vocabulary");
  };
  if (auto id = find_id("bos_token")) v.bos = id;
  if (auto id = find_id("eos_token")) v.eos = id;
  if (auto id = find_id("unk_token")) v.unk = id;
  if (auto id = find_id("pad_token")) v.pad = id;
  if (config.contains("add_bos_token") && config["add_bos_token"].is_boolean())
    v.add_bos = config["add_bos_token"].get<bool>();
  if (config.contains("add_eos_token") && config["add_eos_token"].is_boolean())
    v.add_eos = config["add_eos_token"].get<bool>();
}

// Places added tokens (ids past the base vocabulary extend it) and sets their types.
void apply_added(Vocab& v, const std::map<int32_t, Special>& added, const std::string& source) {
  for (const auto& [id, s] : added) {
    // Added tokens past the vocabulary extend it, without leaving holes.
    if (id < 0 || size_t(id) >= v.tokens.size() + added.size())
      fail(source, ": added token '", s.text, "' has id ", id, ", past the vocabulary's end");
    if (size_t(id) >= v.tokens.size()) {
      v.tokens.resize(size_t(id) + 1);
      v.types.resize(size_t(id) + 1, TokenType::Normal);
    }
    std::string& slot = v.tokens[size_t(id)];
    if (!slot.empty() && slot != s.text)
      fail(source, ": added token '", s.text, "' has id ", id, ", which is '", slot, "'");
    slot = s.text;
    v.types[size_t(id)] = s.special ? TokenType::Control : TokenType::UserDefined;
  }
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (v.tokens[id].empty()) fail(source, ": no token has id ", id);
}

// SentencePiece scores from merge ranks: a piece made by an earlier merge scores higher, so the
// score-ranked algorithm merges in the same order as the ranked merge list.
void scores_from_merges(Vocab& v, const std::vector<MergeText>& merges, const std::string& source) {
  v.build_index(source);
  const float none = -float(merges.size()) - 1.0f;
  v.scores.assign(v.tokens.size(), none);
  for (size_t rank = merges.size(); rank-- > 0;) {
    const auto& [a, b] = merges[rank];
    const auto id = v.find(a + b);
    if (!id)
      fail(source, ": merge ", rank, " '", a, " ", b, "': token '", a + b,
           "' is not in the vocabulary");
    v.scores[size_t(*id)] = -float(rank);
  }
}

std::unique_ptr<Tokenizer> from_tokenizer_json(const fs::path& dir) {
  const fs::path path = dir / "tokenizer.json";
  const std::string source = path.string();
  const json j = read_json(path);
  if (!j.is_object() || !j.contains("model") || !j["model"].is_object())
    fail(source, ": no \"model\" object");
  const json& model = j["model"];
  if (model.value("type", "BPE") != "BPE")
    fail(source, ": model type '", model.value("type", ""), "' is not supported (only BPE)");
  if (!model.contains("vocab") || !model.contains("merges"))
    fail(source, ": model has no vocab or merges");

  std::vector<const json*> pre, norm, dec;
  if (j.contains("pre_tokenizer")) collect_types(j["pre_tokenizer"], "pretokenizers", pre);
  if (j.contains("normalizer")) collect_types(j["normalizer"], "normalizers", norm);
  if (j.contains("decoder")) collect_types(j["decoder"], "decoders", dec);
  const auto has = [](const std::vector<const json*>& nodes, const char* type) {
    for (const json* n : nodes)
      if (n->value("type", "") == type) return n;
    return static_cast<const json*>(nullptr);
  };

  TokenizerSpec spec;
  spec.source = dir.string();
  spec.vocab_source = source;
  spec.merges_source = source;
  Vocab& v = spec.vocab;
  v.tokens = tokens_by_id(model["vocab"], 0, source + ": model.vocab");
  v.types.assign(v.tokens.size(), TokenType::Normal);
  spec.merges = merges_from_json(model["merges"], source);

  const json* byte_level = has(pre, "ByteLevel");
  const json* metaspace = has(pre, "Metaspace");
  const bool byte_fallback = model.value("byte_fallback", false);
  if (byte_level || has(dec, "ByteLevel")) {
    spec.kind = ModelKind::ByteLevelBpe;
    if (!byte_level || pre.size() != 1)
      fail(source, ": pre_tokenizer is not a lone ByteLevel; only GPT-2's split is supported");
    if (byte_level->value("add_prefix_space", false))
      fail(source, ": ByteLevel add_prefix_space = true is not supported");
    if (!byte_level->value("use_regex", true))
      fail(source, ": ByteLevel use_regex = false is not supported");
    if (!norm.empty()) fail(source, ": a normalizer with a ByteLevel model is not supported");
  } else if (byte_fallback || metaspace || has(norm, "Prepend")) {
    spec.kind = ModelKind::SentencePieceBpe;
    for (const json* n : norm) {
      const std::string type = n->value("type", "");
      const bool prepend = type == "Prepend" && n->value("prepend", "") == kSpace;
      const bool replace = type == "Replace" && n->contains("pattern") &&
                           (*n)["pattern"].value("String", "") == " " &&
                           n->value("content", "") == kSpace;
      if (!prepend && !replace) fail(source, ": normalizer '", type, "' is not supported");
    }
    if (metaspace && metaspace->value("split", false))
      fail(source, ": Metaspace with split = true is not supported");
    bool prefix = has(norm, "Prepend") != nullptr;
    if (metaspace)
      prefix = metaspace->value("add_prefix_space", false) ||
               metaspace->value("prepend_scheme", "never") != "never";
    spec.sentencepiece.add_dummy_prefix = prefix;
    spec.sentencepiece.remove_extra_whitespaces = false;
    for (size_t id = 0; id < v.tokens.size(); ++id) {
      const std::string& t = v.tokens[id];
      if (byte_fallback && t.size() == 6 && t.starts_with("<0x") && t.back() == '>')
        v.types[id] = TokenType::Byte;
    }
    v.add_bos = true;  // the Llama default; tokenizer_config.json may say otherwise
  } else {
    fail(source, ": neither a ByteLevel nor a SentencePiece-style (▁, byte_fallback) BPE model");
  }

  std::map<int32_t, Special> added;
  if (j.contains("added_tokens") && j["added_tokens"].is_array()) {
    for (const json& t : j["added_tokens"]) {
      if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() ||
          !t.contains("content") || !t["content"].is_string() || t["id"].get<int64_t>() < 0 ||
          t["id"].get<int64_t>() > INT32_MAX)
        fail(source, ": added_tokens holds an entry without a valid id and content");
      added[t["id"].get<int32_t>()] =
          Special{t["content"].get<std::string>(), t.value("special", false)};
    }
  }
  apply_config(dir, v, added);
  apply_added(v, added, source);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    v.build_index(source);
    const auto id = v.find(model["unk_token"].get<std::string>());
    if (!id) fail(source, ": model.unk_token is not in the vocabulary");
    v.unk = id;
  }
  if (v.unk) v.types[size_t(*v.unk)] = TokenType::Unknown;
  if (spec.kind == ModelKind::SentencePieceBpe) {
    scores_from_merges(v, spec.merges, source);
    spec.merges.clear();
  }
  return std::make_unique<Tokenizer>(std::move(spec));
}

std::unique_ptr<Tokenizer> from_vocab_and_merges(const fs::path& dir) {
  const fs::path vocab_path = dir / "vocab.json", merges_path = dir / "merges.txt";
  TokenizerSpec spec;
  spec.source = dir.string();
  spec.vocab_source = vocab_path.string();
  spec.merges_source = merges_path.string();
  spec.kind = ModelKind::ByteLevelBpe;
  Vocab& v = spec.vocab;
  v.tokens = tokens_by_id(read_json(vocab_path), 0, spec.vocab_source);
  v.types.assign(v.tokens.size(), TokenType::Normal);
  spec.merges = merges_from_lines(read_text(merges_path), spec.merges_source);
  std::map<int32_t, Special> added;
  v.build_index(spec.vocab_source);  // tokenizer_config.json names its special tokens by text
  apply_config(dir, v, added);
  // GPT-2's tokenizer uses <|endoftext|> as bos, eos and unknown token unless told otherwise.
  if (const auto eot = v.find("<|endoftext|>")) {
    if (!v.bos) v.bos = eot;
    if (!v.eos) v.eos = eot;
    if (!added.count(*eot)) added[*eot] = Special{"<|endoftext|>", true};
  }
  apply_added(v, added, spec.vocab_source);
  return std::make_unique<Tokenizer>(std::move(spec));
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::from_hf_dir(const std::string& dir) {
  const fs::path d(dir);
  try {
    if (fs::exists(d / "tokenizer.json")) return from_tokenizer_json(d);
    if (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt"))
      return from_vocab_and_merges(d);
  } catch (const json::exception& e) {
    // A value of the wrong JSON type somewhere in the tokenizer files.
    fail(dir, ": malformed tokenizer files: ", e.what());
  }
  fail(dir, ": no tokenizer.json, nor vocab.json and merges.txt");
}

}  // namespace gb::tok
