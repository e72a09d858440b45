// A corpus of documents read one at a time, so a corpus of any length is processed in constant
// memory.
//
// Formats (by content, not by name):
//   plain text: one document per line; empty lines are skipped;
//   JSON Lines: one object per line with a "text" string (tokenized with the model's tokenizer)
//               or a "tokens" array of ids. A file whose first non-empty line starts with '{'
//               is read as JSON Lines.
// Errors name the file and the line.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "model/model.h"

namespace gb::analysis {

struct CorpusDocument {
  int64_t line = 0;  // 1-based line in the file
  std::vector<int32_t> tokens;
};

class CorpusReader {
 public:
  // bos: put the tokenizer's BOS in front of each text document (JSON "tokens" are taken as
  // they are).
  CorpusReader(const std::string& path, const Model& model, bool bos);
  // The next non-empty document; false at the end. Throws gb::Error naming file:line on a bad
  // line; at the end of a file that held no document, throws "<path>: corpus has no documents".
  bool next(CorpusDocument& doc);
  int64_t documents() const { return documents_; }

 private:
  std::vector<int32_t> parse_json_line(const std::string& text);

  std::string path_;
  const Model& model_;
  bool bos_;
  std::ifstream in_;
  int64_t line_ = 0;
  int64_t documents_ = 0;
  int json_ = -1;  // -1: not decided yet, 0: text lines, 1: JSON Lines
};

}  // namespace gb::analysis
