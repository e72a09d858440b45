// 8-bit images for TensorBoard's image dashboard: the pixel buffer, the size limit, PNG encoding.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gb {

// Row-major pixels, [height, width, channels]; channels is 1 (grayscale) or 3 (RGB).
struct Image {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<uint8_t> pixels = {};  // [height, width, channels]

  uint8_t* at(int y, int x) { return pixels.data() + (size_t(y) * width + x) * channels; }
  const uint8_t* at(int y, int x) const {
    return pixels.data() + (size_t(y) * width + x) * channels;
  }
};

// An image of the given size filled with one colour (`channels` bytes of `fill`).
Image make_image(int height, int width, int channels, const uint8_t* fill);

// Throws gb::Error (prefixed with `what`) unless the image is non-empty, has 1 or 3 channels
// and exactly height * width * channels pixel bytes.
void check_image(const Image& image, const std::string& what);

// Downsampling rule for images over the size limit: with f = ceil(max(height, width) /
// max_side), the result is ceil(height / f) x ceil(width / f), and each output pixel is the
// mean of the f x f block of input pixels it covers (blocks at the right and bottom edges may be
// smaller), per channel, rounded half up. Images with both sides <= max_side come back unchanged.
Image downsample_to_fit(const Image& image, int max_side);

// The image as a PNG file (8 bits per channel, grayscale or RGB, no interlacing), via libpng.
std::string encode_png(const Image& image);

}  // namespace gb
