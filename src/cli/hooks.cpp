// glassbox hooks: every hook point of a model with its shape.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/table.h"
#include "observe/hook_catalog.h"

namespace gb::cli {
namespace {

struct HooksArgs {
  ModelArgs model;
  int64_t n_pos = 0;
  bool json = false;
};

void run_hooks(const HooksArgs& a) {
  auto model = a.model.load();
  const HookCatalog cat = hook_catalog(*model);
  const RunDims dims{.batch = 1, .n_pos = a.n_pos, .k_len = a.n_pos, .src_pos = a.n_pos};
  auto shape = [&](HookSite site) {
    return a.n_pos > 0 ? hook_shape(site, cat.config, dims).str() : [&] {
      // Symbolic axes with the model's sizes filled in where they are fixed.
      const HookSiteInfo& info = hook_site_info(site);
      std::string s = "[";
      for (int i = 0; i < info.rank; ++i) {
        const Axis ax = info.axes[i];
        const bool run_axis = ax == Axis::Batch || ax == Axis::Pos || ax == Axis::QPos ||
                              ax == Axis::KPos || ax == Axis::SrcPos;
        s += (i ? ", " : "") + (run_axis ? std::string(axis_name(ax))
                                         : std::to_string(axis_size(ax, cat.config, dims)));
      }
      return s + "]";
    }();
  };
  if (a.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : cat.entries)
      j.push_back({{"name", e.name},
                   {"shape", shape(e.point.site)},
                   {"axes", hook_shape_names(e.point.site)},
                   {"doc", std::string(hook_site_info(e.point.site).doc)}});
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  Table t({"hook", "shape", "meaning"});
  for (const auto& e : cat.entries)
    t.add({e.name, shape(e.point.site), std::string(hook_site_info(e.point.site).doc)});
  std::printf("%s%zu hook points\n", t.str().c_str(), cat.entries.size());
}

}  // namespace

void add_hooks_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("hooks", "List every hook point of a model with its shape");
  auto args = std::make_shared<HooksArgs>();
  args->model.add(cmd);
  cmd->add_option("--pos", args->n_pos, "Show concrete shapes for a prompt of this many tokens");
  cmd->add_flag("--json", args->json, "Print JSON");
  cmd->callback([args] { run_hooks(*args); });
}

}  // namespace gb::cli
