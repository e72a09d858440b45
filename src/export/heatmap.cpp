#include "export/heatmap.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace gb {
namespace {

constexpr int64_t kMaxImageSide = 1 << 15;  // bounds the memory of one heat-map image

struct Rgb {
  uint8_t r, g, b;
};

// Colours at evenly spaced positions from t = 0 to t = 1; linear interpolation between them.
// Viridis: matplotlib's viridis at 0, 1/8, ..., 1. Diverging: ColorBrewer RdBu, blue to red.
constexpr Rgb kViridis[] = {{68, 1, 84},    {71, 45, 123},  {59, 82, 139},
                            {44, 114, 142}, {33, 145, 140}, {40, 174, 128},
                            {94, 201, 98},  {173, 220, 48}, {253, 231, 37}};
constexpr Rgb kGray[] = {{0, 0, 0}, {255, 255, 255}};
constexpr Rgb kDiverging[] = {
    {5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}};

std::span<const Rgb> stops(Colormap colormap) {
  switch (colormap) {
    case Colormap::Viridis:
      return kViridis;
    case Colormap::Gray:
      return kGray;
    case Colormap::Diverging:
      return kDiverging;
  }
  return kViridis;
}

void check_stack(const MatrixStack& m) {
  if (m.tiles <= 0 || m.rows <= 0 || m.cols <= 0)
    fail("heat map: empty matrix stack [", m.tiles, ", ", m.rows, ", ", m.cols, "]");
  if (int64_t(m.values.size()) / m.tiles / m.rows != m.cols ||
      int64_t(m.values.size()) != m.tiles * m.rows * m.cols)
    fail("heat map: ", m.values.size(), " values do not fill [", m.tiles, ", ", m.rows, ", ",
         m.cols, "]");
}

// Block means of the finite values, f x f blocks: [tiles, rows, cols] -> [tiles, ceil(rows/f),
// ceil(cols/f)]; NaN where a block has no finite value.
std::vector<float> average_blocks(const MatrixStack& m, int64_t f) {
  int64_t out_rows = (m.rows + f - 1) / f, out_cols = (m.cols + f - 1) / f;
  std::vector<float> out(size_t(m.tiles * out_rows * out_cols));
  for (int64_t t = 0; t < m.tiles; ++t) {
    const float* tile = m.values.data() + t * m.rows * m.cols;  // [rows, cols]
    for (int64_t oy = 0; oy < out_rows; ++oy) {
      for (int64_t ox = 0; ox < out_cols; ++ox) {
        double sum = 0;
        int64_t n = 0;
        for (int64_t y = oy * f; y < std::min(oy * f + f, m.rows); ++y) {
          for (int64_t x = ox * f; x < std::min(ox * f + f, m.cols); ++x) {
            float v = tile[y * m.cols + x];
            if (std::isfinite(v)) sum += v, ++n;
          }
        }
        out[size_t((t * out_rows + oy) * out_cols + ox)] = n > 0 ? float(sum / double(n)) : NAN;
      }
    }
  }
  return out;
}

// The value range [lo, hi] mapped onto the colormap.
std::pair<float, float> value_range(std::span<const float> values, const HeatmapOptions& o) {
  float lo = INFINITY, hi = -INFINITY, abs_max = 0;
  for (float v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    abs_max = std::max(abs_max, std::fabs(v));
  }
  if (lo > hi) lo = hi = 0;  // no finite value
  if (o.colormap == Colormap::Diverging) lo = -abs_max, hi = abs_max;
  return {o.vmin.value_or(lo), o.vmax.value_or(hi)};
}

// Where the tiles go: a grid of `columns` tiles per row, `cell` pixels per matrix cell.
struct TileLayout {
  int64_t cell = 1;
  int64_t columns = 1;
  int64_t tile_w = 0, tile_h = 0, gap = 0;  // pixels
  int64_t width = 0, height = 0;            // of the whole image

  int64_t top(int64_t tile) const { return (tile / columns) * (tile_h + gap); }
  int64_t left(int64_t tile) const { return (tile % columns) * (tile_w + gap); }
};

TileLayout layout_tiles(const MatrixStack& m, const HeatmapOptions& options) {
  TileLayout l;
  l.cell = options.cell_pixels > 0 ? options.cell_pixels
                                   : std::clamp<int64_t>(256 / std::max(m.rows, m.cols), 1, 16);
  l.columns = options.tile_columns > 0 ? std::min<int64_t>(options.tile_columns, m.tiles)
                                       : int64_t(std::ceil(std::sqrt(double(m.tiles))));
  int64_t grid_rows = (m.tiles + l.columns - 1) / l.columns;
  l.tile_w = m.cols * l.cell;
  l.tile_h = m.rows * l.cell;
  l.gap = options.tile_gap;
  l.width = l.columns * l.tile_w + (l.columns - 1) * l.gap;
  l.height = grid_rows * l.tile_h + (grid_rows - 1) * l.gap;
  if (l.width > kMaxImageSide || l.height > kMaxImageSide)
    fail("heat map: image of ", l.height, "x", l.width, " pixels is too large; lower cell_pixels");
  return l;
}

}  // namespace

void colormap_rgb(Colormap colormap, float t, uint8_t rgb[3]) {
  std::span<const Rgb> s = stops(colormap);
  float pos = std::clamp(t, 0.0f, 1.0f) * float(s.size() - 1);
  size_t i = std::min(size_t(pos), s.size() - 2);
  float w = pos - float(i);
  auto mix = [w](uint8_t a, uint8_t b) { return uint8_t(std::lround(a + (b - a) * w)); };
  rgb[0] = mix(s[i].r, s[i + 1].r);
  rgb[1] = mix(s[i].g, s[i + 1].g);
  rgb[2] = mix(s[i].b, s[i + 1].b);
}

Image render_heatmap(const MatrixStack& matrices, const HeatmapOptions& options) {
  check_stack(matrices);
  if (options.max_tile_side <= 0 || options.cell_pixels < 0 || options.tile_columns < 0 ||
      options.tile_gap < 0)
    fail(
        "heat map: max_tile_side must be positive and cell_pixels, tile_columns, tile_gap not "
        "negative");
  MatrixStack m = matrices;
  std::vector<float> reduced_values;
  int64_t longest = std::max(m.rows, m.cols);
  if (longest > options.max_tile_side) {
    int64_t f = (longest + options.max_tile_side - 1) / options.max_tile_side;
    reduced_values = average_blocks(matrices, f);
    m = {.values = reduced_values,
         .tiles = matrices.tiles,
         .rows = (matrices.rows + f - 1) / f,
         .cols = (matrices.cols + f - 1) / f};
  }
  auto [lo, hi] = value_range(m.values, options);
  TileLayout l = layout_tiles(m, options);

  const uint8_t white[3] = {255, 255, 255};
  Image image = make_image(int(l.height), int(l.width), 3, white);
  for (int64_t t = 0; t < m.tiles; ++t) {
    for (int64_t r = 0; r < m.rows; ++r) {
      for (int64_t c = 0; c < m.cols; ++c) {
        float v = m.values[size_t((t * m.rows + r) * m.cols + c)];
        uint8_t rgb[3] = {kNonFiniteRgb[0], kNonFiniteRgb[1], kNonFiniteRgb[2]};
        if (std::isfinite(v))
          colormap_rgb(options.colormap, hi > lo ? (v - lo) / (hi - lo) : 0.5f, rgb);
        int64_t y0 = l.top(t) + r * l.cell, x0 = l.left(t) + c * l.cell;
        for (int64_t y = y0; y < y0 + l.cell; ++y)
          for (int64_t x = x0; x < x0 + l.cell; ++x)
            std::copy(rgb, rgb + 3, image.at(int(y), int(x)));
      }
    }
  }
  return image;
}

}  // namespace gb
