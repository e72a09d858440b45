#include "observe/trace_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "model/config_json.h"

namespace gb {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json axes_json(HookSite site) {
  json a = json::array();
  const HookSiteInfo& info = hook_site_info(site);
  for (int i = 0; i < info.rank; ++i) a.push_back(std::string(axis_name(info.axes[i])));
  return a;
}

}  // namespace

std::string trace_file_name(const std::string& hook_name, TraceFormat format) {
  return hook_name + (format == TraceFormat::Npy ? ".npy" : ".safetensors");
}

TraceManifest::TraceManifest(std::string dir, const TraceInfo& info) : dir_(std::move(dir)) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_)) fail(dir_, ": cannot create output directory: ", ec.message());
  fs::remove(fs::path(dir_) / "manifest.json", ec);
  const ModelConfig& c = info.config;
  json_ = {{"format", "glassbox-trace"},
           {"version", 1},
           {"model", config_json(c)},
           {"tokens", info.tokens},
           {"token_strings", info.token_strings},
           {"filter", info.filter},
           {"hooks", json::array()}};
  json_["model"]["path"] = info.model_path;
  if (c.family == Family::TorchTransformer) {
    json inputs = json::array();
    for (const TraceInput& in : info.inputs)
      inputs.push_back({{"role", in.role}, {"file", in.file}, {"shape", in.shape}});
    json_["inputs"] = inputs;
    json_["batch_first"] = info.batch_first;
    json_["tgt_causal"] = info.tgt_causal;
  }
}

std::string TraceManifest::path_of(const std::string& file) const {
  return (fs::path(dir_) / file).string();
}

void TraceManifest::add_hook(const HookSelection& sel, const std::vector<int64_t>& shape,
                             const std::string& file) {
  json h = {{"name", sel.name},
            {"file", file},
            {"shape", shape},
            {"dtype", "float32"},
            {"axes", axes_json(sel.point.site)}};
  if (sel.sliced()) h["slices"] = sel.slice_text();
  json_["hooks"].push_back(h);
}

void TraceManifest::set_tokens(const std::vector<int32_t>& tokens,
                               const std::vector<std::string>& strings) {
  json_["tokens"] = tokens;
  json_["token_strings"] = strings;
}

void TraceManifest::write() {
  io::write_file_atomically((fs::path(dir_) / "manifest.json").string(), json_.dump(2) + "\n");
}

std::vector<std::string> write_trace(const std::string& dir, TraceFormat format,
                                     const ActivationCache& cache, const HookPlan& plan,
                                     const TraceInfo& info) {
  TraceManifest manifest(dir, info);
  std::vector<std::string> written;
  std::vector<io::SafetensorsEntry> entries;
  for (const HookSelection& sel : plan.selections()) {
    if (!cache.contains(sel.name)) continue;
    const Tensor& t = cache[sel.name];
    const std::vector<int64_t> shape = t.shape().to_vector();
    if (format == TraceFormat::Npy) {
      const std::string file = trace_file_name(sel.name, format);
      io::write_npy(manifest.path_of(file), t.data(), shape);
      manifest.add_hook(sel, shape, file);
      written.push_back(file);
    } else {
      manifest.add_hook(sel, shape, "trace.safetensors");
      entries.push_back({sel.name, shape, t.data()});
    }
  }
  if (format == TraceFormat::Safetensors) {
    io::write_safetensors(manifest.path_of("trace.safetensors"), entries,
                          {{"format", "glassbox-trace"}});
    written.push_back("trace.safetensors");
  }
  manifest.write();
  written.push_back("manifest.json");
  return written;
}

}  // namespace gb
