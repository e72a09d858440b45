// GGUF metadata values: typed accessors and array constructors.
#include "core/error.h"
#include "io/gguf.h"

namespace gb::io {
namespace {

const char* kind_name(GgufType t) {
  switch (t) {
    case GgufType::STRING:
      return "a string";
    case GgufType::ARRAY:
      return "an array";
    case GgufType::BOOL:
      return "a bool";
    case GgufType::F32:
    case GgufType::F64:
      return "a float";
    default:
      return "an integer";
  }
}

}  // namespace

GgufValue GgufValue::strings(const std::vector<std::string>& v) {
  GgufArray a{GgufType::STRING, {}};
  a.items.reserve(v.size());
  for (const auto& s : v) a.items.push_back(string(s));
  return {GgufType::ARRAY, std::move(a)};
}

GgufValue GgufValue::f32s(const std::vector<float>& v) {
  GgufArray a{GgufType::F32, {}};
  a.items.reserve(v.size());
  for (float x : v) a.items.push_back(f32(x));
  return {GgufType::ARRAY, std::move(a)};
}

GgufValue GgufValue::i32s(const std::vector<int32_t>& v) {
  GgufArray a{GgufType::I32, {}};
  a.items.reserve(v.size());
  for (int32_t x : v) a.items.push_back(i32(x));
  return {GgufType::ARRAY, std::move(a)};
}

int64_t GgufValue::as_int() const {
  if (auto* u = std::get_if<uint64_t>(&value)) {
    if (*u > uint64_t(INT64_MAX)) fail("integer ", *u, " is too large");
    return int64_t(*u);
  }
  if (auto* i = std::get_if<int64_t>(&value)) return *i;
  if (auto* b = std::get_if<bool>(&value)) return *b ? 1 : 0;
  fail("expected an integer, found ", kind_name(type));
}

double GgufValue::as_float() const {
  if (auto* d = std::get_if<double>(&value)) return *d;
  if (auto* u = std::get_if<uint64_t>(&value)) return double(*u);
  if (auto* i = std::get_if<int64_t>(&value)) return double(*i);
  fail("expected a number, found ", kind_name(type));
}

bool GgufValue::as_bool() const {
  if (auto* b = std::get_if<bool>(&value)) return *b;
  if (auto* u = std::get_if<uint64_t>(&value)) return *u != 0;
  if (auto* i = std::get_if<int64_t>(&value)) return *i != 0;
  fail("expected a bool, found ", kind_name(type));
}

const std::string& GgufValue::as_string() const {
  if (auto* s = std::get_if<std::string>(&value)) return *s;
  fail("expected a string, found ", kind_name(type));
}

const GgufArray& GgufValue::as_array() const {
  if (auto* a = std::get_if<GgufArray>(&value)) return *a;
  fail("expected an array, found ", kind_name(type));
}

}  // namespace gb::io
