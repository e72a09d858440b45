#include "cli/seq2seq_args.h"

#include <cmath>
#include <limits>

#include "core/error.h"
#include "io/npy.h"

namespace gb::cli {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// A float array of `rank` dimensions (src, tgt).
InputArray read_floats(const std::string& path, size_t rank, const char* axes) {
  io::NpyArray a = io::read_npy(path);
  if (a.dtype != "<f4") fail(path, ": dtype is integer or bool; inputs must be float32 or float64");
  if (a.shape.size() != rank) fail(path, ": shape ", shape_text(a.shape), " must be ", axes);
  return {Tensor(Shape(std::span<const int64_t>(a.shape)), std::move(a.f32)), path};
}

// A mask [rows, cols] as additive floats: float files as they are (PyTorch adds them to the
// scores); bool/integer files are −inf where nonzero (PyTorch ignores those keys).
InputArray read_mask(const std::string& path, const char* axes) {
  if (path.empty()) return {};
  io::NpyArray a = io::read_npy(path);
  if (a.shape.size() != 2)
    fail(path, ": shape ", shape_text(a.shape), " must be ", axes,
         a.shape.size() == 3 ? " (per-head 3-D masks are not supported)" : "");
  if (a.dtype == "<i4") {
    a.f32.resize(a.i32.size());
    for (size_t i = 0; i < a.i32.size(); ++i)
      a.f32[i] = a.i32[i] != 0 ? -std::numeric_limits<float>::infinity() : 0.0f;
  }
  for (float v : a.f32)
    if (std::isnan(v)) fail(path, ": mask holds NaN");
  return {Tensor(Shape(std::span<const int64_t>(a.shape)), std::move(a.f32)), path};
}

}  // namespace

void Seq2SeqArgs::add(CLI::App* cmd) {
  const std::string g = "Encoder-decoder models (torch.nn.Transformer)";
  cmd->add_option("--src", src, "Encoder input .npy, float [src_len, batch, d_model]")->group(g);
  cmd->add_option("--tgt", tgt, "Decoder input .npy, float [tgt_len, batch, d_model]")->group(g);
  auto* bf = cmd->add_flag("--batch-first", batch_first,
                           "Inputs and output are [batch, seq, d_model] (default: the module's "
                           "batch_first)")
                 ->group(g);
  cmd->add_flag("--seq-first", seq_first, "Inputs and output are [seq, batch, d_model]")
      ->group(g)
      ->excludes(bf);
  cmd->add_flag("--causal", causal,
                "Causal target mask: decoder position i attends to positions <= i")
      ->group(g);
  cmd->add_option("--src-mask", src_mask, ".npy [src_len, src_len]: encoder attention mask")
      ->group(g);
  cmd->add_option("--tgt-mask", tgt_mask, ".npy [tgt_len, tgt_len]: decoder self-attention mask")
      ->group(g);
  cmd->add_option("--memory-mask", memory_mask, ".npy [tgt_len, src_len]: cross-attention mask")
      ->group(g);
  cmd->add_option("--src-padding", src_padding,
                  ".npy [batch, src_len]: src_key_padding_mask (encoder self-attention)")
      ->group(g);
  cmd->add_option("--tgt-padding", tgt_padding,
                  ".npy [batch, tgt_len]: tgt_key_padding_mask (decoder self-attention)")
      ->group(g);
  cmd->add_option("--memory-padding", memory_padding,
                  ".npy [batch, src_len]: memory_key_padding_mask (cross-attention; as in "
                  "PyTorch, --src-padding does not mask it)")
      ->group(g);
}

bool Seq2SeqArgs::given() const {
  return !src.empty() || !tgt.empty() || batch_first || seq_first || causal || !src_mask.empty() ||
         !tgt_mask.empty() || !memory_mask.empty() || !src_padding.empty() ||
         !tgt_padding.empty() || !memory_padding.empty();
}

Seq2SeqInputs Seq2SeqArgs::load(const Seq2SeqModel& model) const {
  if (src.empty() || tgt.empty())
    usage_fail(model.path(), " is an encoder-decoder model: give --src and --tgt .npy files");
  Seq2SeqInputs in;
  in.batch_first = batch_first || (model.config().batch_first && !seq_first);
  const char* layout = in.batch_first ? "[batch, seq, d_model]" : "[seq, batch, d_model]";
  in.src = read_floats(src, 3, layout);
  in.tgt = read_floats(tgt, 3, layout);
  in.tgt_causal = causal;
  in.src_mask = read_mask(src_mask, "[src_len, src_len]");
  in.tgt_mask = read_mask(tgt_mask, "[tgt_len, tgt_len]");
  in.memory_mask = read_mask(memory_mask, "[tgt_len, src_len]");
  in.src_key_padding = read_mask(src_padding, "[batch, src_len]");
  in.tgt_key_padding = read_mask(tgt_padding, "[batch, tgt_len]");
  in.memory_key_padding = read_mask(memory_padding, "[batch, src_len]");
  model.check_inputs(in);
  return in;
}

void reject_seq2seq_args(const Model& model, const Seq2SeqArgs& args) {
  if (args.given())
    usage_fail(model.path(),
               " is a decoder-only model: --src/--tgt and the mask options are "
               "for torch.nn.Transformer folders");
}

}  // namespace gb::cli
