// Options of runs of encoder-decoder models (torch.nn.Transformer folders): the .npy inputs,
// their layout and the masks, as nn.Transformer.forward takes them.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "model/seq2seq.h"

namespace gb::cli {

struct Seq2SeqArgs {
  std::string src, tgt;  // .npy files, float32/float64
  bool batch_first = false, seq_first = false;
  bool causal = false;
  std::string src_mask, tgt_mask, memory_mask;           // .npy [q_len, k_len]
  std::string src_padding, tgt_padding, memory_padding;  // .npy [batch, k_len]

  void add(CLI::App* cmd);
  bool given() const;  // whether any of these options was used
  // Reads the files into the model's inputs. Throws gb::Error naming the file on a wrong dtype
  // or shape; UsageError when --src or --tgt is missing.
  Seq2SeqInputs load(const Seq2SeqModel& model) const;
};

// Throws a UsageError when seq2seq options were given to a decoder-only model.
void reject_seq2seq_args(const Model& model, const Seq2SeqArgs& args);

}  // namespace gb::cli
