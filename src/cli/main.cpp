// glassbox: run transformer language models and look inside them.
#include <cstdio>
#include <exception>
#include <new>

#include "cli/commands.h"
#include "core/error.h"

namespace {

int report(const char* message, int status) {
  std::fprintf(stderr, "glassbox: error: %s\n", message);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"glassbox: run transformer language models and observe their insides"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "glassbox 0.1.0");
  gb::cli::add_inspect_command(app);
  gb::cli::add_run_command(app);
  gb::cli::add_hooks_command(app);
  gb::cli::add_trace_command(app);
  gb::cli::add_generate_command(app);
  gb::cli::add_patch_command(app);
  gb::cli::add_convert_command(app);
  gb::cli::add_bench_command(app);
  gb::cli::add_tokenize_command(app);
  gb::cli::add_weights_command(app);
  gb::cli::add_lens_command(app);
  gb::cli::add_attribute_command(app);
  gb::cli::add_heads_command(app);
  gb::cli::add_stats_command(app);
  gb::cli::add_diagnose_command(app);
  gb::cli::add_diff_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report(e.what(), 2);
  } catch (const gb::UsageError& e) {
    return report(e.what(), 2);
  } catch (const gb::Error& e) {
    return report(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return report("out of memory", 1);
  } catch (const std::exception& e) {
    return report(e.what(), 1);
  }
  return 0;
}
