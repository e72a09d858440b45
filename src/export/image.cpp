#include "export/image.h"

#include <algorithm>

#include "core/error.h"

namespace gb {

Image make_image(int height, int width, int channels, const uint8_t* fill) {
  Image image{.height = height, .width = width, .channels = channels, .pixels = {}};
  image.pixels.resize(size_t(height) * width * channels);
  for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = fill[i % channels];
  return image;
}

void check_image(const Image& image, const std::string& what) {
  if (image.height <= 0 || image.width <= 0)
    fail(what, ": image size ", image.height, "x", image.width, " is empty");
  if (image.channels != 1 && image.channels != 3)
    fail(what, ": image has ", image.channels, " channels; 1 (grayscale) or 3 (RGB) expected");
  size_t expected = size_t(image.height) * size_t(image.width) * size_t(image.channels);
  if (image.pixels.size() != expected)
    fail(what, ": image ", image.height, "x", image.width, "x", image.channels, " needs ", expected,
         " pixel bytes, got ", image.pixels.size());
}

Image downsample_to_fit(const Image& image, int max_side) {
  if (max_side <= 0) fail("image size limit must be positive, got ", max_side);
  int longest = std::max(image.height, image.width);
  if (longest <= max_side) return image;
  int f = (longest + max_side - 1) / max_side;  // block side
  int out_h = (image.height + f - 1) / f;
  int out_w = (image.width + f - 1) / f;
  int c = image.channels;
  Image out{.height = out_h, .width = out_w, .channels = c, .pixels = {}};
  out.pixels.resize(size_t(out_h) * out_w * c);
  for (int oy = 0; oy < out_h; ++oy) {
    int y0 = oy * f, y1 = std::min(y0 + f, image.height);
    for (int ox = 0; ox < out_w; ++ox) {
      int x0 = ox * f, x1 = std::min(x0 + f, image.width);
      uint64_t n = uint64_t(y1 - y0) * uint64_t(x1 - x0);
      for (int ch = 0; ch < c; ++ch) {
        uint64_t sum = 0;
        for (int y = y0; y < y1; ++y)
          for (int x = x0; x < x1; ++x) sum += image.at(y, x)[ch];
        out.at(oy, ox)[ch] = uint8_t((sum + n / 2) / n);
      }
    }
  }
  return out;
}

}  // namespace gb
