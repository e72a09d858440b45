// glassbox inspect MODEL: architecture, hyperparameters, tokenizer and tensor table.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "model/config_json.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

namespace gb::cli {
namespace {

struct InspectArgs {
  ModelArgs model;
  bool json = false;
};

nlohmann::json tokenizer_json(const Model& m) {
  const tok::Tokenizer* t = m.tokenizer();
  if (!t) return nullptr;
  nlohmann::json j = {{"model", std::string(t->model_name())},
                      {"vocab_size", t->vocab_size()},
                      {"add_bos", t->add_bos_default()}};
  if (t->bos()) j["bos"] = {{"id", *t->bos()}, {"piece", t->piece(*t->bos())}};
  if (t->eos()) j["eos"] = {{"id", *t->eos()}, {"piece", t->piece(*t->eos())}};
  return j;
}

void run_inspect(const InspectArgs& a) {
  auto model = a.model.load();
  const ModelConfig& c = model->config();
  if (a.json) {
    nlohmann::json j = {
        {"path", model->path()}, {"config", config_json(c)}, {"tokenizer", tokenizer_json(*model)}};
    for (const auto& [name, t] : model->tensors().all())
      j["tensors"].push_back(
          {{"name", name}, {"dtype", t.dtype_label}, {"shape", t.shape}, {"bytes", t.bytes}});
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::printf("%s\n", model->path().c_str());
  Table hp({"field", "value"});
  const nlohmann::json cj = config_json(c);
  for (const auto& [k, v] : cj.items())
    hp.add({k, v.is_string() ? v.get<std::string>() : v.dump()});
  std::printf("%s\n", hp.str().c_str());
  const nlohmann::json tj = tokenizer_json(*model);
  if (tj.is_null()) {
    std::printf("tokenizer: none (give token ids with --tokens)\n\n");
  } else {
    std::printf("tokenizer: %s, %d tokens", tj["model"].get<std::string>().c_str(),
                tj["vocab_size"].get<int>());
    if (tj.contains("bos"))
      std::printf(", bos %s (%d)", printable(tj["bos"]["piece"]).c_str(),
                  tj["bos"]["id"].get<int>());
    if (tj.contains("eos"))
      std::printf(", eos %s (%d)", printable(tj["eos"]["piece"]).c_str(),
                  tj["eos"]["id"].get<int>());
    std::printf("%s\n\n", model->tokenizer()->add_bos_default() ? ", adds bos" : "");
  }
  Table t({"tensor", "dtype", "shape", "bytes"});
  double total = 0;
  for (const auto& [name, ref] : model->tensors().all()) {
    t.add({name, ref.dtype_label, ref.shape_str(), human_bytes(double(ref.bytes))});
    total += double(ref.bytes);
  }
  std::printf("%s", t.str({3}).c_str());
  std::printf("%zu tensors, %s parameters, %s\n", model->tensors().all().size(),
              human_count(double(c.n_params)).c_str(), human_bytes(total).c_str());
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd =
      app.add_subcommand("inspect", "Show a model's architecture, hyperparameters and tensors");
  auto args = std::make_shared<InspectArgs>();
  cmd->add_option("model", args->model.path,
                  "Model: a .gguf file or a Hugging Face checkpoint folder");
  cmd->add_option("-m,--model", args->model.path, "Same as the positional MODEL");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_inspect(*args); });
}

}  // namespace gb::cli
