// glassbox inspect MODEL: architecture, hyperparameters, tokenizer and tensor table.
#include "cli/commands.h"
#include "core/error.h"

namespace gb::cli {

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show a model file's architecture and tensors");
  auto path = std::make_shared<std::string>();
  cmd->add_option("model", *path, "Model file (.gguf) or Hugging Face checkpoint folder")
      ->required();
  cmd->callback([path] { fail(*path, ": model loading is not built yet"); });
}

}  // namespace gb::cli
