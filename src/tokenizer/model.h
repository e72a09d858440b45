// The segmentation algorithm behind a Tokenizer. Each model turns a fragment of text that holds
// no special tokens into ids; the Tokenizer splits special tokens off and adds bos/eos.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gb::tok {

enum class ModelKind {
  ByteLevelBpe,      // GPT-2: regex pre-tokeniser, bytes mapped to characters, ranked merges
  SentencePieceBpe,  // Llama: ▁ for spaces, score-ranked merges, byte fallback
};

// One merge rule as text, e.g. {"Ġ", "t"}.
using MergeText = std::pair<std::string, std::string>;

class Model {
 public:
  virtual ~Model() = default;
  virtual ModelKind kind() const = 0;
  // Appends the ids of `text`.
  virtual void encode(std::string_view text, std::vector<int32_t>& out) const = 0;
};

}  // namespace gb::tok
