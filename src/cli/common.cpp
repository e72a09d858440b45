#include "cli/common.h"

#include "core/error.h"
#include "model/default_model.h"
#include "ops/matmul.h"
#include "tokenizer/tokenizer.h"

namespace gb::cli {

void ModelArgs::add(CLI::App* cmd) {
  cmd->add_option("-m,--model", path,
                  "Model: a .gguf file or a Hugging Face checkpoint folder (default: the shipped "
                  "demo model)");
  cmd->add_option("-t,--threads", threads, "Threads (default: one per core)");
  cmd->add_flag("--exact", exact,
                "Q8_0/Q4_0 weights: keep the activations in f32 in the products (default: round "
                "them to 8-bit blocks, as llama.cpp does; up to 2x faster)");
}

std::unique_ptr<Model> ModelArgs::load() const {
  int n = threads;
  const int hw = ThreadPool::hardware_threads();
  if (n < 0) usage_fail("--threads must be positive");
  if (n > hw) {
    std::fprintf(stderr,
                 "glassbox: warning: --threads %d is more than the %d hardware threads; using %d\n",
                 n, hw, hw);
    n = hw;
  }
  if (exact) ops::set_matmul_options({.quantize_activations = false});
  return load_model(resolve_model_path(path), n);
}

void PromptArgs::add(CLI::App* cmd) {
  cmd->add_option("-p,--prompt", text, "Prompt text");
  cmd->add_option("--tokens", tokens, "Prompt as token ids, e.g. 1,2,3");
  cmd->add_flag("--bos", bos, "Put the BOS token in front of the prompt text");
}

std::vector<int32_t> parse_int_list(const std::string& text, const std::string& what) {
  std::vector<int32_t> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      usage_fail(what, ": '", item, "' is not an integer");
    }
    if (used != item.size() || v < INT32_MIN || v > INT32_MAX)
      usage_fail(what, ": '", item, "' is not an integer");
    out.push_back(int32_t(v));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::vector<int32_t> PromptArgs::ids(const Model& model) const {
  if (model.config().family == Family::TorchTransformer)
    usage_fail(model.path(),
               " is an encoder-decoder model: it runs on --src/--tgt arrays "
               "(glassbox run, trace), not on tokens");
  if (!text.empty() && !tokens.empty()) usage_fail("give either --prompt or --tokens, not both");
  if (!tokens.empty()) {
    std::vector<int32_t> ids = parse_int_list(tokens, "--tokens");
    for (int32_t id : ids)
      if (id < 0 || id >= model.config().d_vocab)
        usage_fail("--tokens: id ", id, " is out of range for a vocabulary of ",
                   model.config().d_vocab);
    return ids;
  }
  if (text.empty()) usage_fail("give a prompt with --prompt TEXT or --tokens 1,2,3");
  const tok::Tokenizer* tok = model.tokenizer();
  if (!tok) usage_fail(model.path(), ": the model has no tokenizer; give --tokens");
  std::vector<int32_t> ids = tok->encode(text, {.add_bos = bos || tok->add_bos_default()});
  if (ids.empty()) usage_fail("the prompt encodes to no tokens");
  return ids;
}

std::string token_label(const Model& model, int32_t id) {
  const tok::Tokenizer* tok = model.tokenizer();
  if (!tok || id < 0 || id >= tok->vocab_size()) return "#" + std::to_string(id);
  return tok->piece(id);
}

}  // namespace gb::cli
