// glassbox weights MODEL: statistics of every weight tensor (norm, moments, histogram, top
// singular values, quantization error), as a table, JSON, or TensorBoard summaries.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "analysis/weight_inspection.h"
#include "analysis/weight_stats_json.h"
#include "analysis/weight_summaries.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "model/default_model.h"

namespace gb::cli {
namespace {

struct WeightsArgs {
  std::string model;
  std::string tensors;
  std::string reference;
  std::string tensorboard;
  bool json = false;
  int singular_values = 8;
  int svd_iterations = 6;
};

std::string general(double v) {
  if (!std::isfinite(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

std::string percent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, fraction != 0 && fraction < 0.001 ? "%.2g%%" : "%.2f%%",
                100 * fraction);
  return buf;
}

// One progress line on stderr while the tensors are computed, only when stderr is a terminal.
class Progress {
 public:
  Progress() : enabled_(isatty(STDERR_FILENO) != 0) {}
  void show(size_t index, size_t count, const std::string& name) {
    if (enabled_) std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", index + 1, count, name.c_str());
  }
  void done() {
    if (enabled_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  bool enabled_;
};

void warn_non_finite(const WeightStats& s) {
  if (s.values.nan_count == 0 && s.values.inf_count == 0) return;
  std::fprintf(stderr,
               "glassbox: warning: tensor %s: %lld NaN and %lld infinite value(s), left out of "
               "its statistics\n",
               s.name.c_str(), (long long)s.values.nan_count, (long long)s.values.inf_count);
}

std::vector<std::string> table_row(const WeightStats& s, bool with_reference) {
  std::string shape = "[";
  for (size_t i = 0; i < s.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(s.shape[i]);
  shape += "]";
  std::vector<std::string> row = {s.name, s.dtype, shape};
  if (!s.computed) return row;  // the note under the table says why
  const ValueStats& v = s.values;
  row.insert(row.end(), {general(v.l2_norm), general(v.mean), general(v.std), general(v.abs_max),
                         percent(v.zero_fraction),
                         s.singular_values.empty() ? "" : general(s.singular_values.front()),
                         s.quantization ? percent(s.quantization->rel_error) : ""});
  if (with_reference) row.push_back(s.reference ? percent(s.reference->rel_error) : "");
  return row;
}

void print_table(const std::vector<WeightStats>& all, const WeightsArgs& a,
                 const SpectrumOptions& spectrum) {
  const bool with_reference = !a.reference.empty();
  std::vector<std::string> header = {"tensor", "dtype",   "shape", "norm", "mean",
                                     "std",    "abs max", "zeros", "σ1",   "quant err"};
  if (with_reference) header.push_back("ref err");
  Table table(header);
  double elements = 0;
  for (const WeightStats& s : all) {
    table.add(table_row(s, with_reference));
    if (s.computed) elements += double(s.values.count);
  }
  std::vector<size_t> right = {3, 4, 5, 6, 7, 8, 9, 10};
  std::printf("%s", table.str(right).c_str());
  std::printf("%zu tensors, %s elements\n", all.size(), human_count(elements).c_str());
  std::printf(
      "σ1: largest singular value of 2-D tensors (randomised subspace iteration, %d iterations; "
      "top %d in --json)\n",
      spectrum.iterations, spectrum.values);
  std::printf(
      "quant err: estimated ‖x̂-x‖/‖x‖ of Q8_0/Q4_0 tensors from their block scales (rounding "
      "noise step/√12)\n");
  if (with_reference) std::printf("ref err: measured ‖x̂-r‖/‖r‖ against %s\n", a.reference.c_str());
  for (const WeightStats& s : all)
    if (!s.note.empty()) std::printf("%s: %s\n", s.name.c_str(), s.note.c_str());
}

void run_weights(WeightsArgs a) {
  a.model = resolve_model_path(a.model);
  if (a.singular_values < 0) usage_fail("--singular-values must not be negative");
  if (a.svd_iterations < 0) usage_fail("--svd-iterations must not be negative");
  const SpectrumOptions spectrum{.values = a.singular_values, .iterations = a.svd_iterations};
  ThreadPool pool(ThreadPool::hardware_threads());
  const WeightInspection inspection(a.model, {.filter = a.tensors,
                                              .reference = a.reference,
                                              .stats = {.spectrum = spectrum, .pool = &pool}});
  // Opened before the long computation, so an unwritable directory fails at once.
  std::unique_ptr<SummaryWriter> writer;
  if (!a.tensorboard.empty())
    writer = std::make_unique<SummaryWriter>(a.tensorboard, SummaryWriterOptions{});

  std::vector<WeightStats> all;
  Progress progress;
  inspection.run([&](const InspectedTensor& t) {
    progress.show(t.index, t.count, t.stats.name);
    warn_non_finite(t.stats);
    if (writer) add_weight_summaries(*writer, t.stats, t.values);
    all.push_back(t.stats);
  });
  progress.done();
  if (writer) {
    writer->close();
    std::fprintf(stderr, "glassbox: wrote TensorBoard summaries of %zu tensors to %s\n", all.size(),
                 writer->file_path().string().c_str());
  }

  if (a.json) {
    nlohmann::json j = {
        {"path", a.model},
        {"reference", a.reference.empty() ? nlohmann::json() : nlohmann::json(a.reference)},
        {"singular_values", to_json(spectrum)},
        {"tensors", nlohmann::json::array()}};
    for (const WeightStats& s : all) j["tensors"].push_back(to_json(s));
    std::printf("%s\n", j.dump().c_str());
    return;
  }
  std::printf("%s\n", a.model.c_str());
  print_table(all, a, spectrum);
}

}  // namespace

void add_weights_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "weights",
      "Statistics of a model's weights: norms, histograms, singular values, quantization error");
  auto args = std::make_shared<WeightsArgs>();
  cmd->add_option("model", args->model, "Model: a .gguf file or a Hugging Face checkpoint folder");
  cmd->add_option("-m,--model", args->model, "Same as the positional MODEL");
  cmd->add_option("--tensors", args->tensors,
                  "Tensors to inspect: names, globs (blk.*.attn_q.weight), layer ranges "
                  "(blk.0-3.ffn_up.weight), re:REGEX, comma-separated (default: all)");
  cmd->add_flag("--json", args->json,
                "Print JSON (every statistic, histogram buckets, singular values)");
  cmd->add_option("--tensorboard", args->tensorboard,
                  "Write histograms, scalars and heat maps to this TensorBoard log directory "
                  "(step = layer)");
  cmd->add_option("--reference", args->reference,
                  "Unquantized model with the same tensor names (e.g. the f32 GGUF a quantized "
                  "one was made from): measure each tensor's error against it");
  cmd->add_option("--singular-values", args->singular_values,
                  "How many of the largest singular values to estimate per 2-D tensor (0: none)")
      ->capture_default_str();
  cmd->add_option("--svd-iterations", args->svd_iterations,
                  "Subspace iterations of the randomised singular value estimate")
      ->capture_default_str();
  cmd->callback([args] { run_weights(*args); });
}

}  // namespace gb::cli
