// PNG encoding of gb::Image through libpng, into memory.
#include <png.h>

#include <csetjmp>
#include <new>

#include "core/error.h"
#include "export/image.h"

namespace gb {
namespace {

void append_bytes(png_structp png, png_bytep data, png_size_t size) {
  auto* out = static_cast<std::string*>(png_get_io_ptr(png));
  try {
    out->append(reinterpret_cast<const char*>(data), size);
  } catch (const std::bad_alloc&) {
    png_error(png, "out of memory");
  }
}

void no_flush(png_structp) {}

// libpng reports errors by longjmp to the setjmp below, so this function owns no C++ object
// with a destructor; `out` lives in the caller. Returns false on a libpng error.
bool write_png(const Image& image, std::string& out) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) return false;
  png_infop info = png_create_info_struct(png);
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, &out, append_bytes, no_flush);
  int color_type = image.channels == 1 ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB;
  png_set_IHDR(png, info, png_uint_32(image.width), png_uint_32(image.height), 8, color_type,
               PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < image.height; ++y) png_write_row(png, image.at(y, 0));
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return true;
}

}  // namespace

std::string encode_png(const Image& image) {
  check_image(image, "PNG encoding");
  std::string out;
  if (!write_png(image, out))
    fail("PNG encoding of a ", image.height, "x", image.width, "x", image.channels,
         " image failed (libpng error)");
  return out;
}

}  // namespace gb
