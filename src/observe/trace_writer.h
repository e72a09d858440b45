// Trace files: the cached hook tensors of a run as one .npy per hook (or one .safetensors), and
// a manifest.json saying what they are: model identity, tokens and their strings (or, for
// encoder-decoder models, the input arrays), hook names, shapes, axes, dtypes and slices. The
// manifest is written last, so a trace directory with a manifest is complete.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/config.h"
#include "observe/activation_cache.h"
#include "observe/hook_plan.h"

namespace gb {

// An array an encoder-decoder run was fed.
struct TraceInput {
  std::string role;  // "src", "tgt", "src_mask", "src_key_padding_mask", ...
  std::string file;
  std::vector<int64_t> shape;
};

struct TraceInfo {
  std::string model_path;
  ModelConfig config;
  std::vector<int32_t> tokens;
  std::vector<std::string> token_strings;  // empty when the model has no tokenizer
  std::string filter;
  // Encoder-decoder runs (no tokens): what was fed in, and how.
  std::vector<TraceInput> inputs = {};
  bool batch_first = false;  // the inputs' layout (hook tensors are always batch-first)
  bool tgt_causal = false;   // causal target mask
};

enum class TraceFormat { Npy, Safetensors };

// The manifest of a trace directory. Creating it prepares the directory (created if missing,
// a stale manifest removed so it cannot describe new, partial files); write() comes last.
class TraceManifest {
 public:
  TraceManifest(std::string dir, const TraceInfo& info);
  const std::string& dir() const { return dir_; }
  std::string path_of(const std::string& file) const;
  void add_hook(const HookSelection& sel, const std::vector<int64_t>& shape,
                const std::string& file);
  void set_tokens(const std::vector<int32_t>& tokens, const std::vector<std::string>& strings);
  void write();

 private:
  std::string dir_;
  nlohmann::json json_;
};

// Writes into `dir` (created if missing). Returns the files written, manifest last.
std::vector<std::string> write_trace(const std::string& dir, TraceFormat format,
                                     const ActivationCache& cache, const HookPlan& plan,
                                     const TraceInfo& info);

// "blocks.0.attn.hook_pattern" -> "blocks.0.attn.hook_pattern.npy" (names are file-safe).
std::string trace_file_name(const std::string& hook_name, TraceFormat format);

}  // namespace gb
