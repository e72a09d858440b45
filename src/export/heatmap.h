// Heat-map images of float matrices: attention patterns, weight matrices, activations.
//
// A stack of matrices (e.g. one attention pattern per head, [n_heads, q_pos, k_pos]) becomes one
// RGB image: each matrix a tile, tiles laid out row by row with a gap, every cell a square of
// `cell_pixels` pixels, and one colour scale shared by all tiles so that heads can be compared.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "export/image.h"

namespace gb {

enum class Colormap {
  Viridis,    // perceptually uniform dark purple -> yellow; for non-negative data (attention)
  Gray,       // black -> white
  Diverging,  // blue -> light gray -> red, centred on 0; for signed data (weights, residuals)
};

// Matrices stacked along the first axis, row-major: values is [tiles, rows, cols].
struct MatrixStack {
  std::span<const float> values = {};  // [tiles, rows, cols]
  int64_t tiles = 1;
  int64_t rows = 0;
  int64_t cols = 0;
};

struct HeatmapOptions {
  Colormap colormap = Colormap::Viridis;
  // Values mapped to the two ends of the colormap (values outside are clamped). Unset: the
  // smallest and largest finite value; for Diverging, -m and +m with m the largest |value|.
  std::optional<float> vmin = std::nullopt;
  std::optional<float> vmax = std::nullopt;
  int cell_pixels = 0;       // side of one cell in pixels; 0 = 256 / max(rows, cols), in [1, 16]
  int tile_columns = 0;      // tiles per row; 0 = ceil(sqrt(tiles))
  int tile_gap = 2;          // white pixels between tiles
  int max_tile_side = 1024;  // a matrix with more rows or columns is averaged down in blocks first
};

// The colour of `t` in [0, 1] on the colormap (t is clamped).
void colormap_rgb(Colormap colormap, float t, uint8_t rgb[3]);

// The colour drawn for NaN and ±Inf cells: magenta, which none of the colormaps contains.
inline constexpr uint8_t kNonFiniteRgb[3] = {255, 0, 255};

// Renders the stack as one RGB image. Throws gb::Error if the sizes do not match the values or
// the image would exceed 32768 pixels on a side.
// Matrices larger than max_tile_side on a side are first reduced by averaging the finite values
// of f x f blocks (f = ceil(max(rows, cols) / max_tile_side)); a block with no finite value is
// drawn as non-finite.
Image render_heatmap(const MatrixStack& matrices, const HeatmapOptions& options = {});

}  // namespace gb
