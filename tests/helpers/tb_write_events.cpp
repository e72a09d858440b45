// Test-only program: writes TensorBoard summaries described by a JSON spec through
// gb::SummaryWriter, so that tests/reference/test_tensorboard.py can read them back with its
// own, independent reader. Not installed; not part of the glassbox CLI (it exists to feed exact
// inputs and inject faults, which a user-facing command should not offer).
//
//   tb_write_events SPEC.json
//
// The spec (arrays of numbers and pixels come in raw files next to it):
//   {"log_dir": "...", "flush_seconds": 10, "max_image_side": 2048, "filename_suffix": "",
//    "max_file_bytes": 0,              // >0: RLIMIT_FSIZE, to make writes fail like a full disk
//    "entries": [
//      {"kind": "scalar", "tag": "t", "step": 1, "value": 0.5, "wall_time": 1.5},
//      {"kind": "histogram", "tag": "t", "step": 1, "values_file": "x.f32"},
//      {"kind": "image", "tag": "t", "step": 1, "height": 4, "width": 5, "channels": 3,
//       "pixels_file": "x.u8"},
//      {"kind": "heatmap", "tag": "t", "step": 1, "tiles": 4, "rows": 6, "cols": 6,
//       "values_file": "x.f32", "colormap": "viridis", "cell_pixels": 3, "vmin": 0, "vmax": 1},
//      {"kind": "text", "tag": "t", "step": 1, "text": "..."},
//      {"kind": "threaded_scalars", "tag_prefix": "thread", "threads": 4, "steps": 100},
//      {"kind": "flush"}]}
//   ("wall_time" is optional everywhere.)
//
// Prints one JSON object on stdout: {"event_file": path, "histograms": [{tag, step, counted,
// nan, inf, written}]}. An error prints `tb_write_events: error: <message>` on stderr, exit 1.
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "export/summary_writer.h"

namespace {

using nlohmann::json;

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) gb::fail("cannot read ", path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<float> read_floats(const std::string& path) {
  std::string bytes = read_bytes(path);
  std::vector<float> values(bytes.size() / sizeof(float));
  std::copy(bytes.begin(), bytes.begin() + values.size() * sizeof(float),
            reinterpret_cast<char*>(values.data()));
  return values;
}

std::optional<double> wall_time_of(const json& entry) {
  if (!entry.contains("wall_time")) return std::nullopt;
  return entry["wall_time"].get<double>();
}

gb::Colormap colormap_named(const std::string& name) {
  if (name == "gray") return gb::Colormap::Gray;
  if (name == "diverging") return gb::Colormap::Diverging;
  return gb::Colormap::Viridis;
}

void write_threaded_scalars(gb::SummaryWriter& writer, const json& entry) {
  std::string prefix = entry["tag_prefix"];
  int threads = entry["threads"], steps = entry["steps"];
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int s = 0; s < steps; ++s)
        writer.add_scalar(prefix + "/" + std::to_string(t), float(t * 100000 + s), s);
    });
  }
  for (auto& thread : pool) thread.join();
}

void write_entry(gb::SummaryWriter& writer, const json& entry, json& report) {
  std::string kind = entry["kind"], tag = entry.value("tag", "");
  int64_t step = entry.value("step", int64_t(0));
  std::optional<double> wall = wall_time_of(entry);
  if (kind == "scalar") {
    writer.add_scalar(tag, float(entry["value"].get<double>()), step, wall);
  } else if (kind == "histogram") {
    std::vector<float> values = read_floats(entry["values_file"]);
    gb::HistogramReport r = writer.add_histogram(tag, values, step, wall);
    report["histograms"].push_back({{"tag", tag},
                                    {"step", step},
                                    {"counted", r.counted},
                                    {"nan", r.nan_count},
                                    {"inf", r.inf_count},
                                    {"written", r.written}});
  } else if (kind == "image") {
    std::string pixels = read_bytes(entry["pixels_file"]);
    gb::Image image{.height = entry["height"],
                    .width = entry["width"],
                    .channels = entry["channels"],
                    .pixels = {pixels.begin(), pixels.end()}};
    writer.add_image(tag, image, step, wall);
  } else if (kind == "heatmap") {
    std::vector<float> values = read_floats(entry["values_file"]);
    gb::HeatmapOptions options;
    options.colormap = colormap_named(entry.value("colormap", "viridis"));
    options.cell_pixels = entry.value("cell_pixels", 0);
    if (entry.contains("vmin")) options.vmin = entry["vmin"].get<float>();
    if (entry.contains("vmax")) options.vmax = entry["vmax"].get<float>();
    gb::MatrixStack stack{
        .values = values, .tiles = entry["tiles"], .rows = entry["rows"], .cols = entry["cols"]};
    writer.add_heatmap(tag, stack, step, options, wall);
  } else if (kind == "text") {
    writer.add_text(tag, entry["text"].get<std::string>(), step, wall);
  } else if (kind == "threaded_scalars") {
    write_threaded_scalars(writer, entry);
  } else if (kind == "flush") {
    writer.flush();
  } else {
    gb::fail("unknown entry kind '", kind, "'");
  }
}

int run(const std::string& spec_path) {
  json spec = json::parse(read_bytes(spec_path));
  if (int64_t limit = spec.value("max_file_bytes", int64_t(0)); limit > 0) {
    std::signal(SIGXFSZ, SIG_IGN);  // let write() fail with EFBIG instead of killing us
    rlimit r{.rlim_cur = rlim_t(limit), .rlim_max = rlim_t(limit)};
    if (setrlimit(RLIMIT_FSIZE, &r) != 0) gb::fail("setrlimit failed");
  }
  gb::SummaryWriter writer(spec["log_dir"].get<std::string>(),
                           {.flush_seconds = spec.value("flush_seconds", 10.0),
                            .filename_suffix = spec.value("filename_suffix", ""),
                            .max_image_side = spec.value("max_image_side", 2048)});
  json report = {{"event_file", writer.file_path().string()}, {"histograms", json::array()}};
  for (const json& entry : spec["entries"]) write_entry(writer, entry, report);
  writer.close();
  std::cout << report.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tb_write_events SPEC.json\n");
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tb_write_events: error: %s\n", e.what());
    return 1;
  }
}
