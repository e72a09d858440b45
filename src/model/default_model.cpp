#include "model/default_model.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "core/error.h"
#include "io/sha256.h"

#ifndef GLASSBOX_DEFAULT_MODEL
#define GLASSBOX_DEFAULT_MODEL ""
#endif
#ifndef GLASSBOX_DEFAULT_MODEL_SHA256
#define GLASSBOX_DEFAULT_MODEL_SHA256 ""
#endif

namespace gb {

std::string default_model_path() {
  return GLASSBOX_DEFAULT_MODEL;
}

std::string resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("GLASSBOX_DEFAULT_MODEL"); env && *env) {
    std::fprintf(stderr, "glassbox: no -m given; using GLASSBOX_DEFAULT_MODEL=%s\n", env);
    return env;
  }
  const std::string path = default_model_path();
  const std::string expected = GLASSBOX_DEFAULT_MODEL_SHA256;
  if (path.empty() || expected.empty())
    usage_fail(
        "no -m given, and this build has no default model (models/ held none when it was "
        "configured)");
  if (!std::filesystem::exists(path))
    fail(path,
         ": the default model is missing (restore it with `git checkout -- models/`), or give -m "
         "MODEL");
  const std::string actual = io::sha256_file(path);
  if (actual != expected)
    fail(path, ": the default model is corrupted (SHA-256 ", actual.substr(0, 16), "..., expected ",
         expected.substr(0, 16), "...); restore it with `git checkout -- models/`");
  std::fprintf(stderr, "glassbox: no -m given; using the default model %s\n",
               std::filesystem::path(path).filename().c_str());
  return path;
}

}  // namespace gb
