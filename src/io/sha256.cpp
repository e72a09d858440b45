#include "io/sha256.h"

#include <openssl/evp.h>

#include <memory>

#include "core/error.h"
#include "io/mapped_file.h"

namespace gb::io {

std::string sha256_file(const std::string& path) {
  auto file = MappedFile::open(path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), file->data(), file->size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1)
    fail(path, ": cannot compute SHA-256");
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace gb::io
