#include "export/image.h"

#include <gtest/gtest.h>
#include <png.h>

#include <vector>

#include "core/error.h"

namespace gb {
namespace {

Image gray(int height, int width, std::vector<uint8_t> pixels) {
  return {.height = height, .width = width, .channels = 1, .pixels = std::move(pixels)};
}

TEST(Downsample, SmallImagesComeBackUnchanged) {
  Image image = gray(2, 3, {1, 2, 3, 4, 5, 6});
  Image out = downsample_to_fit(image, 3);
  EXPECT_EQ(out.pixels, image.pixels);
  EXPECT_EQ(out.width, 3);
}

TEST(Downsample, AveragesBlocksOfTheIntegerFactor) {
  // 4x4, limit 2: f = 2; each output pixel is the mean of a 2x2 block.
  Image image = gray(4, 4,
                     {0, 2, 10, 10,      //
                      4, 6, 10, 10,      //
                      100, 100, 0, 255,  //
                      100, 101, 0, 0});
  Image out = downsample_to_fit(image, 2);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 2);
  // Means 3, 10, 100.25, 63.75 -> 3, 10, 100, 64.
  EXPECT_EQ(out.pixels, (std::vector<uint8_t>{3, 10, 100, 64}));
}

TEST(Downsample, EdgeBlocksAreSmallerAndHalvesRoundUp) {
  // 5x3, limit 2: f = ceil(5/2) = 3 -> 2x1; the bottom block has 2 rows.
  Image image = gray(5, 3,
                     {0, 0, 0,  //
                      0, 0, 0,  //
                      0, 0, 9,  //
                      0, 1, 0,  //
                      0, 0, 0});
  Image out = downsample_to_fit(image, 2);
  ASSERT_EQ(out.height, 2);
  ASSERT_EQ(out.width, 1);
  EXPECT_EQ(out.pixels[0], 1);  // 9 / 9 = 1
  EXPECT_EQ(out.pixels[1], 0);  // 1 / 6 = 0.17 -> 0

  Image half = gray(1, 2, {0, 1});  // mean 0.5 rounds up
  EXPECT_EQ(downsample_to_fit(half, 1).pixels, std::vector<uint8_t>{1});
}

TEST(Downsample, RgbChannelsAreAveragedSeparately) {
  Image image{.height = 1, .width = 2, .channels = 3, .pixels = {10, 20, 30, 30, 40, 51}};
  Image out = downsample_to_fit(image, 1);
  EXPECT_EQ(out.pixels, (std::vector<uint8_t>{20, 30, 41}));
}

TEST(CheckImage, RejectsBadShapes) {
  EXPECT_THROW(check_image(gray(0, 3, {}), "x"), Error);
  EXPECT_THROW(check_image(gray(2, 2, {1, 2, 3}), "x"), Error);
  Image rgba{.height = 1, .width = 1, .channels = 4, .pixels = {1, 2, 3, 4}};
  EXPECT_THROW(check_image(rgba, "x"), Error);
  try {
    check_image(gray(2, 2, {1, 2, 3}), "image 'attn'");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image 'attn'"), std::string::npos) << e.what();
  }
}

// Decodes with libpng's simplified API into 8-bit pixels of the same format.
Image decode_with_libpng(const std::string& png, int channels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  EXPECT_TRUE(png_image_begin_read_from_memory(&image, png.data(), png.size()));
  image.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
  Image out{.height = int(image.height),
            .width = int(image.width),
            .channels = channels,
            .pixels = std::vector<uint8_t>(PNG_IMAGE_SIZE(image))};
  EXPECT_TRUE(png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr));
  return out;
}

TEST(Png, RoundTripsThroughLibpng) {
  for (int channels : {1, 3}) {
    Image image{.height = 7, .width = 13, .channels = channels, .pixels = {}};
    for (int i = 0; i < 7 * 13 * channels; ++i) image.pixels.push_back(uint8_t(i * 37 + 11));
    std::string png = encode_png(image);
    ASSERT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
    Image back = decode_with_libpng(png, channels);
    EXPECT_EQ(back.height, 7);
    EXPECT_EQ(back.width, 13);
    EXPECT_EQ(back.pixels, image.pixels) << channels;
  }
}

}  // namespace
}  // namespace gb
