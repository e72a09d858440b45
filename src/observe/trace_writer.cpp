#include "observe/trace_writer.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "io/npy.h"
#include "io/safetensors.h"

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

void write_text(const fs::path& path, const std::string& text) {
  const std::string partial = path.string() + ".partial";
  {
    std::ofstream f(partial, std::ios::trunc);
    if (!f) fail(path.string(), ": cannot create: ", std::strerror(errno));
    f << text;
    f.close();
    if (!f) {
      std::remove(partial.c_str());
      fail(path.string(), ": write failed (disk full?)");
    }
  }
  fs::rename(partial, path);
}

}  // namespace

std::string trace_file_name(const std::string& hook_name, TraceFormat format) {
  return hook_name + (format == TraceFormat::Npy ? ".npy" : ".safetensors");
}

std::vector<std::string> write_trace(const std::string& dir, TraceFormat format,
                                     const ActivationCache& cache, const HookPlan& plan,
                                     const TraceInfo& info) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) fail(dir, ": cannot create output directory: ", ec.message());
  const fs::path manifest_path = fs::path(dir) / "manifest.json";
  fs::remove(manifest_path, ec);  // an old manifest must not describe new, partial files

  const ModelConfig& c = info.config;
  json m = {{"format", "glassbox-trace"},
            {"version", 1},
            {"model",
             {{"path", info.model_path},
              {"arch", c.arch},
              {"family", family_name(c.family)},
              {"name", c.name},
              {"n_layers", c.n_layers},
              {"d_model", c.d_model},
              {"n_heads", c.n_heads},
              {"n_kv_heads", c.n_kv_heads},
              {"d_head", c.d_head},
              {"d_mlp", c.d_mlp},
              {"d_vocab", c.d_vocab},
              {"n_params", c.n_params}}},
            {"tokens", info.tokens},
            {"token_strings", info.token_strings},
            {"filter", info.filter},
            {"hooks", json::array()}};
  if (c.family == Family::TorchTransformer) {
    m["model"]["n_encoder_layers"] = c.n_encoder_layers;
    m["model"]["n_decoder_layers"] = c.n_layers;
    m["model"]["norm_first"] = c.norm_first;
    m["model"]["activation"] = activation_name(c.act);
    json inputs = json::array();
    for (const TraceInput& in : info.inputs)
      inputs.push_back({{"role", in.role}, {"file", in.file}, {"shape", in.shape}});
    m["inputs"] = inputs;
    m["batch_first"] = info.batch_first;
    m["tgt_causal"] = info.tgt_causal;
  }
  std::vector<std::string> written;
  std::vector<io::SafetensorsEntry> entries;
  for (const HookSelection& sel : plan.selections()) {
    if (!cache.contains(sel.name)) continue;
    const Tensor& t = cache[sel.name];
    const std::vector<int64_t> shape = t.shape().to_vector();
    json h = {{"name", sel.name},
              {"shape", shape},
              {"dtype", "float32"},
              {"axes", axes_json(sel.point.site)}};
    if (sel.sliced()) h["slices"] = sel.slice_text();
    if (format == TraceFormat::Npy) {
      const std::string file = trace_file_name(sel.name, format);
      io::write_npy((fs::path(dir) / file).string(), t.data(), shape);
      h["file"] = file;
      written.push_back(file);
    } else {
      h["file"] = "trace.safetensors";
      entries.push_back({sel.name, shape, t.data()});
    }
    m["hooks"].push_back(h);
  }
  if (format == TraceFormat::Safetensors) {
    io::write_safetensors((fs::path(dir) / "trace.safetensors").string(), entries,
                          {{"format", "glassbox-trace"}});
    written.push_back("trace.safetensors");
  }
  write_text(manifest_path, m.dump(2) + "\n");
  written.push_back("manifest.json");
  return written;
}

}  // namespace gb
