// glassbox tokenize -m MODEL -p TEXT: the token ids and pieces of a text.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>

#include "cli/commands.h"
#include "core/error.h"
#include "model/default_model.h"
#include "tokenizer/tokenizer.h"

namespace gb::cli {
namespace {

using json = nlohmann::json;

struct TokenizeArgs {
  std::string model;
  std::optional<std::string> prompt;
  std::optional<std::string> file;
  std::optional<std::string> jsonl;
  std::optional<std::string> decode;
  bool bos = false, no_bos = false;  // neither: the model's default
  bool eos = false;
  bool special = false;
  bool json = false;
};

std::string read_input(const std::string& path) {
  if (path == "-") return {std::istreambuf_iterator<char>(std::cin), {}};
  std::ifstream in(path, std::ios::binary);
  if (!in) usage_fail("--file ", path, ": cannot open");
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string quoted(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<int32_t> parse_ids(const std::string& list) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find_first_of(", ", pos);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(pos, end - pos);
    pos = end + 1;
    if (item.empty()) continue;
    try {
      size_t used = 0;
      const long v = std::stol(item, &used);
      if (used != item.size() || v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument(item);
      ids.push_back(int32_t(v));
    } catch (const std::logic_error&) {
      usage_fail("--decode: '", item, "' is not a token id");
    }
  }
  return ids;
}

// One JSON object per line: {"text": ...} is encoded to {"ids": [...]}, {"ids": [...]} is decoded
// to {"text": ...}. Errors name the line.
void run_jsonl(const tok::Tokenizer& tok, const std::string& path, const tok::EncodeOptions& o) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) usage_fail("--jsonl ", path, ": cannot open");
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (line.empty()) continue;
    with_context(cat(path, ":", line_no), [&] {
      const json j = json::parse(line, nullptr, false);
      json out;
      if (j.is_object() && j.contains("text") && j["text"].is_string()) {
        out["ids"] = tok.encode(j["text"].get<std::string>(), o);
      } else if (j.is_object() && j.contains("ids") && j["ids"].is_array()) {
        std::vector<int32_t> ids;
        for (const json& id : j["ids"]) {
          if (!id.is_number_integer()) fail("\"ids\" holds a value that is not an integer");
          ids.push_back(id.get<int32_t>());
        }
        out["text"] = tok.decode(ids);
      } else {
        fail("expected a JSON object with \"text\" (a string) or \"ids\" (an array)");
      }
      std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    });
  }
}

void run(const TokenizeArgs& a) {
  const int inputs = int(a.prompt.has_value()) + int(a.file.has_value()) +
                     int(a.jsonl.has_value()) + int(a.decode.has_value());
  if (inputs != 1) usage_fail("give exactly one of -p TEXT, -f FILE, --jsonl FILE, --decode IDS");
  const auto tok = tok::Tokenizer::open(resolve_model_path(a.model));
  const tok::EncodeOptions options{.add_bos = a.bos || (!a.no_bos && tok->add_bos_default()),
                                   .add_eos = a.eos,
                                   .parse_special = a.special};
  if (a.jsonl) return run_jsonl(*tok, *a.jsonl, options);
  if (a.decode) {
    const std::string text = tok->decode(parse_ids(*a.decode));
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::printf("\n");
    return;
  }
  const std::string text = a.prompt ? *a.prompt : read_input(*a.file);
  const std::vector<int32_t> ids = tok->encode(text, options);
  if (a.json) {
    json pieces = json::array();
    for (int32_t id : ids) pieces.push_back(tok->piece(id));
    const json out = {{"model", tok->model_name()},
                      {"vocab_size", tok->vocab_size()},
                      {"ids", ids},
                      {"pieces", pieces}};
    std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return;
  }
  std::printf("%8s  %s\n", "id", "piece");
  for (int32_t id : ids) std::printf("%8d  %s\n", id, quoted(tok->piece(id)).c_str());
  std::printf("%zu token%s (%s tokenizer, %d in vocabulary)\n", ids.size(),
              ids.size() == 1 ? "" : "s", std::string(tok->model_name()).c_str(),
              tok->vocab_size());
}

}  // namespace

void add_tokenize_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("tokenize", "Show the token ids and pieces of a text");
  auto a = std::make_shared<TokenizeArgs>();
  cmd->add_option("-m,--model", a->model,
                  "Model file (.gguf) or Hugging Face folder (default: the demo model)");
  cmd->add_option("-p,--prompt", a->prompt, "Text to tokenize");
  cmd->add_option("-f,--file", a->file, "Read the text from a file (- for standard input)");
  cmd->add_option("--jsonl", a->jsonl,
                  "Batch mode: each line a JSON object, {\"text\": ...} to encode or {\"ids\": "
                  "[...]} to decode; prints one JSON object per line");
  cmd->add_option("--decode", a->decode, "Print the text of token ids (e.g. 15496,11,995)");
  // (Two flags: CLI11 fills an optional<bool> flag with false even when it is not given.)
  cmd->add_flag("--bos", a->bos, "Add the bos token (default: as the model says)")
      ->excludes(cmd->add_flag("--no-bos", a->no_bos, "Do not add the bos token"));
  cmd->add_flag("--eos", a->eos, "Add the eos token");
  cmd->add_flag("--special", a->special,
                "Recognise special tokens written in the text (<s>, <|endoftext|>)");
  cmd->add_flag("--json", a->json, "Print {\"ids\": [...], \"pieces\": [...]} as JSON");
  cmd->callback([a] { run(*a); });
}

}  // namespace gb::cli
