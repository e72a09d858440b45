#include "analysis/corpus.h"

#include <nlohmann/json.hpp>

#include "analysis/tokens.h"
#include "core/error.h"

namespace gb::analysis {

CorpusReader::CorpusReader(const std::string& path, const Model& model, bool bos)
    : path_(path), model_(model), bos_(bos), in_(path, std::ios::binary) {
  if (!in_) fail(path, ": cannot open corpus");
}

std::vector<int32_t> CorpusReader::parse_json_line(const std::string& text) {
  const std::string where = cat(path_, ":", line_);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(where, ": not valid JSON (", e.what(), ")");
  }
  if (!j.is_object()) fail(where, ": expected a JSON object with a \"text\" or \"tokens\" field");
  if (j.contains("tokens")) {
    const auto& t = j["tokens"];
    if (!t.is_array()) fail(where, ": \"tokens\" is not an array");
    std::vector<int32_t> ids;
    for (const auto& v : t) {
      if (!v.is_number_integer()) fail(where, ": \"tokens\" holds a non-integer");
      const int64_t id = v.get<int64_t>();
      if (id < 0 || id >= model_.config().d_vocab)
        fail(where, ": token id ", id, " is out of range for a vocabulary of ",
             model_.config().d_vocab);
      ids.push_back(int32_t(id));
    }
    return ids;
  }
  if (!j.contains("text") || !j["text"].is_string())
    fail(where, ": expected a \"text\" string or a \"tokens\" array");
  return encode_text(model_, j["text"].get<std::string>(), bos_, where);
}

bool CorpusReader::next(CorpusDocument& doc) {
  std::string text;
  while (std::getline(in_, text)) {
    ++line_;
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    if (json_ < 0) json_ = text[text.find_first_not_of(" \t")] == '{' ? 1 : 0;
    doc.line = line_;
    doc.tokens =
        json_ ? parse_json_line(text) : encode_text(model_, text, bos_, cat(path_, ":", line_));
    if (doc.tokens.empty()) continue;
    ++documents_;
    return true;
  }
  if (in_.bad()) fail(path_, ": read error");
  if (documents_ == 0) fail(path_, ": corpus has no documents");
  return false;
}

}  // namespace gb::analysis
