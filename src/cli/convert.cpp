// glassbox convert: a Hugging Face checkpoint (or a GGUF) to GGUF of a chosen weight type.
#include "model/convert.h"

#include <cstdio>

#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"

namespace gb::cli {
namespace {

struct ConvertArgs {
  std::string source, out, type = "f16", name;
};

void run_convert(const ConvertArgs& a) {
  ConvertOptions o;
  if (!dtype_from_name(a.type, o.type) || o.type == DType::I32)
    usage_fail("--type '", a.type, "' is not one of f32, f16, bf16, q8_0, q4_0");
  o.name = a.name;
  const ConvertReport r = convert_to_gguf(a.source, a.out, o);
  std::printf("wrote %s: %d tensors, %s, weights %s\n", a.out.c_str(), r.tensors,
              human_bytes(double(r.bytes)).c_str(), std::string(dtype_name(o.type)).c_str());
  if (r.kept_wider)
    std::printf("%d matrices have rows that are not whole %s blocks and were written as f16\n",
                r.kept_wider, std::string(dtype_name(o.type)).c_str());
}

}  // namespace

void add_convert_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("convert", "Convert a Hugging Face checkpoint (or GGUF) to GGUF");
  auto args = std::make_shared<ConvertArgs>();
  cmd->add_option("source", args->source, "Hugging Face checkpoint folder or .gguf file")
      ->required();
  cmd->add_option("-o,--out", args->out, "Output .gguf file")->required();
  cmd->add_option("--type", args->type, "Weight type: f32, f16, bf16, q8_0, q4_0 (default f16)");
  cmd->add_option("--name", args->name, "general.name to record");
  cmd->callback([args] { run_convert(*args); });
}

}  // namespace gb::cli
