// Every glassbox subcommand, one file each. Each add_*_command registers its options and its
// action on the CLI11 app; main() lists them in the order `glassbox --help` shows them.
#pragma once

#include <CLI/CLI.hpp>

namespace gb::cli {

void add_inspect_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_trace_command(CLI::App& app);
void add_hooks_command(CLI::App& app);
void add_convert_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_patch_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_weights_command(CLI::App& app);
void add_lens_command(CLI::App& app);
void add_attribute_command(CLI::App& app);
void add_heads_command(CLI::App& app);
void add_stats_command(CLI::App& app);
void add_diagnose_command(CLI::App& app);
void add_diff_command(CLI::App& app);

}  // namespace gb::cli
