#include "export/heatmap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace gb {
namespace {

std::vector<uint8_t> pixel(const Image& image, int y, int x) {
  const uint8_t* p = image.at(y, x);
  return {p[0], p[1], p[2]};
}

TEST(Colormap, EndsAreTheColormapsEnds) {
  uint8_t rgb[3];
  colormap_rgb(Colormap::Viridis, 0.0f, rgb);  // matplotlib's viridis: #440154 ... #fde725
  EXPECT_EQ(std::vector<uint8_t>(rgb, rgb + 3), (std::vector<uint8_t>{68, 1, 84}));
  colormap_rgb(Colormap::Viridis, 1.0f, rgb);
  EXPECT_EQ(std::vector<uint8_t>(rgb, rgb + 3), (std::vector<uint8_t>{253, 231, 37}));
  colormap_rgb(Colormap::Gray, 0.5f, rgb);
  EXPECT_EQ(std::vector<uint8_t>(rgb, rgb + 3), (std::vector<uint8_t>{128, 128, 128}));
  colormap_rgb(Colormap::Gray, 7.0f, rgb);  // clamped
  EXPECT_EQ(rgb[0], 255);
}

TEST(Heatmap, TilesAreLaidOutRowByRowWithGaps) {
  // 3 tiles of 2x4 cells, 5 px per cell: 2 columns, 2 rows of tiles, 2 px gaps.
  std::vector<float> values(3 * 2 * 4, 0.5f);
  HeatmapOptions options{.colormap = Colormap::Gray, .vmin = 0.0f, .vmax = 1.0f};
  options.cell_pixels = 5;
  Image image = render_heatmap({.values = values, .tiles = 3, .rows = 2, .cols = 4}, options);
  EXPECT_EQ(image.width, 2 * 20 + 2);
  EXPECT_EQ(image.height, 2 * 10 + 2);
  EXPECT_EQ(image.channels, 3);
  EXPECT_EQ(pixel(image, 0, 0), (std::vector<uint8_t>{128, 128, 128}));
  EXPECT_EQ(pixel(image, 10, 0), (std::vector<uint8_t>{255, 255, 255}));   // gap
  EXPECT_EQ(pixel(image, 12, 21), (std::vector<uint8_t>{255, 255, 255}));  // gap
  EXPECT_EQ(pixel(image, 12, 0), (std::vector<uint8_t>{128, 128, 128}));   // tile 2
  EXPECT_EQ(pixel(image, 12, 25), (std::vector<uint8_t>{255, 255, 255}));  // no tile 3
}

TEST(Heatmap, DefaultRangeIsTheDataRange) {
  std::vector<float> values = {-2.0f, 0.0f, 6.0f};
  HeatmapOptions options{.colormap = Colormap::Gray};
  options.cell_pixels = 1;
  Image image = render_heatmap({.values = values, .rows = 1, .cols = 3}, options);
  EXPECT_EQ(pixel(image, 0, 0)[0], 0);
  EXPECT_EQ(pixel(image, 0, 1)[0], 64);  // (0 - -2) / 8 * 255 = 63.75
  EXPECT_EQ(pixel(image, 0, 2)[0], 255);
}

TEST(Heatmap, DivergingIsCentredOnZero) {
  std::vector<float> values = {-1.0f, 0.0f, 4.0f};
  HeatmapOptions options{.colormap = Colormap::Diverging};
  options.cell_pixels = 1;
  Image image = render_heatmap({.values = values, .rows = 1, .cols = 3}, options);
  uint8_t centre[3], top[3];
  colormap_rgb(Colormap::Diverging, 0.5f, centre);
  colormap_rgb(Colormap::Diverging, 1.0f, top);
  EXPECT_EQ(pixel(image, 0, 1), std::vector<uint8_t>(centre, centre + 3));
  EXPECT_EQ(pixel(image, 0, 2), std::vector<uint8_t>(top, top + 3));
}

TEST(Heatmap, NonFiniteCellsAreMagentaAndConstantDataIsMidScale) {
  std::vector<float> values = {3.0f, NAN, 3.0f, INFINITY};
  HeatmapOptions options{.colormap = Colormap::Gray};
  options.cell_pixels = 1;
  Image image = render_heatmap({.values = values, .rows = 2, .cols = 2}, options);
  EXPECT_EQ(pixel(image, 0, 0), (std::vector<uint8_t>{128, 128, 128}));
  EXPECT_EQ(pixel(image, 0, 1), (std::vector<uint8_t>{255, 0, 255}));
  EXPECT_EQ(pixel(image, 1, 1), (std::vector<uint8_t>{255, 0, 255}));
}

TEST(Heatmap, LargeMatricesAreAveragedInBlocksFirst) {
  // 4x4 with max_tile_side 2: 2x2 blocks; finite values averaged, an all-NaN block stays NaN.
  std::vector<float> values = {0, 0, 1,   NAN,  //
                               0, 0, 1,   1,    //
                               1, 0, NAN, NAN,  //
                               0, 1, NAN, NAN};
  HeatmapOptions options{.colormap = Colormap::Gray, .vmin = 0.0f, .vmax = 1.0f};
  options.cell_pixels = 1;
  options.max_tile_side = 2;
  Image image = render_heatmap({.values = values, .rows = 4, .cols = 4}, options);
  ASSERT_EQ(image.width, 2);
  ASSERT_EQ(image.height, 2);
  EXPECT_EQ(pixel(image, 0, 0)[0], 0);
  EXPECT_EQ(pixel(image, 0, 1)[0], 255);
  EXPECT_EQ(pixel(image, 1, 0)[0], 128);  // mean 0.5
  EXPECT_EQ(pixel(image, 1, 1), (std::vector<uint8_t>{255, 0, 255}));
}

TEST(Heatmap, RejectsSizesThatDoNotMatch) {
  std::vector<float> values(10);
  EXPECT_THROW(render_heatmap({.values = values, .tiles = 2, .rows = 2, .cols = 3}), Error);
  EXPECT_THROW(render_heatmap({.values = values, .tiles = 1, .rows = 0, .cols = 10}), Error);
}

}  // namespace
}  // namespace gb
