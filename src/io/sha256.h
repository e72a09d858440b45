// SHA-256 of a file (OpenSSL), as `sha256sum` prints it: 64 lowercase hex digits.
#pragma once

#include <string>

namespace gb::io {

std::string sha256_file(const std::string& path);  // throws gb::Error naming the file

}  // namespace gb::io
