#include "io/gguf.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"

namespace gb::io {
namespace {

namespace fs = std::filesystem;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("gb_gguf_test_" + name)).string();
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void write_all(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

// Sample tensor contents: 3 rows of 64 values, in every dtype.
const float* f32_data() {
  static const std::vector<float> v = [] {
    std::vector<float> x(64 * 3);
    for (size_t i = 0; i < x.size(); ++i) x[i] = float(i) * 0.5f - 3.0f;
    return x;
  }();
  return v.data();
}
template <typename Block>
const void* encoded(DType t) {
  static const std::vector<Block> v = [t] {
    std::vector<Block> out(dtype_bytes(t, 64 * 3) / sizeof(Block));
    quantize_row(t, f32_data(), out.data(), 64 * 3);
    return out;
  }();
  return v.data();
}
const void* f16_data() {
  return encoded<uint16_t>(DType::F16);
}
const void* bf16_data() {
  static const std::vector<uint16_t> v = [] {
    std::vector<uint16_t> out(64 * 3);
    quantize_row(DType::BF16, f32_data(), out.data(), 64 * 3);
    return out;
  }();
  return v.data();
}
const void* q8_data() {
  return encoded<BlockQ8_0>(DType::Q8_0);
}
const void* q4_data() {
  return encoded<BlockQ4_0>(DType::Q4_0);
}

// A file using every metadata type, a nested array, and a tensor of every supported dtype.
std::string write_sample(const std::string& name) {
  const std::string path = temp_path(name);
  GgufWriter w(path);
  w.set("general.architecture", GgufValue::string("llama"));
  w.set("t.u8", {GgufType::U8, uint64_t(200)});
  w.set("t.i8", {GgufType::I8, int64_t(-100)});
  w.set("t.u16", {GgufType::U16, uint64_t(60000)});
  w.set("t.i16", {GgufType::I16, int64_t(-30000)});
  w.set("t.u32", GgufValue::u32(4000000000u));
  w.set("t.i32", GgufValue::i32(-2000000000));
  w.set("t.u64", GgufValue::u64(uint64_t(1) << 60));
  w.set("t.i64", {GgufType::I64, int64_t(-(int64_t(1) << 60))});
  w.set("t.f32", GgufValue::f32(0.25f));
  w.set("t.f64", {GgufType::F64, 1e-300});
  w.set("t.bool", GgufValue::boolean(true));
  w.set("t.strings", GgufValue::strings({"a", "", "ünïcödé"}));
  GgufArray inner1{GgufType::I32, {GgufValue::i32(1), GgufValue::i32(2)}};
  GgufArray inner2{GgufType::I32, {GgufValue::i32(3)}};
  GgufArray outer{GgufType::ARRAY, {{GgufType::ARRAY, inner1}, {GgufType::ARRAY, inner2}}};
  w.set("t.nested", {GgufType::ARRAY, outer});

  const float* f32 = f32_data();
  w.add_tensor("w.f32", {3, 64}, DType::F32, f32);
  w.add_tensor("w.f16", {3, 64}, DType::F16, f16_data());
  w.add_tensor("w.bf16", {3, 64}, DType::BF16, bf16_data());
  w.add_tensor("w.q8_0", {3, 64}, DType::Q8_0, q8_data());
  w.add_tensor("w.q4_0", {3, 64}, DType::Q4_0, q4_data());
  w.write();
  return path;
}

TEST(Gguf, RoundTripsEveryValueTypeAndTensorType) {
  const std::string path = write_sample("roundtrip.gguf");
  GgufFile f = GgufFile::open(path);
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.get_string("general.architecture"), "llama");
  EXPECT_EQ(f.get_int("t.u8"), 200);
  EXPECT_EQ(f.get_int("t.i8"), -100);
  EXPECT_EQ(f.get_int("t.u16"), 60000);
  EXPECT_EQ(f.get_int("t.i16"), -30000);
  EXPECT_EQ(f.get_int("t.u32"), 4000000000ll);
  EXPECT_EQ(f.get_int("t.i32"), -2000000000);
  EXPECT_EQ(f.get_int("t.u64"), int64_t(1) << 60);
  EXPECT_EQ(f.get_int("t.i64"), -(int64_t(1) << 60));
  EXPECT_EQ(f.get_float("t.f32"), 0.25);
  EXPECT_EQ(f.get_float("t.f64"), 1e-300);
  EXPECT_EQ(f.get_bool("t.bool"), true);
  EXPECT_EQ(f.get_strings("t.strings"), (std::vector<std::string>{"a", "", "ünïcödé"}));
  const GgufArray& nested = f.at("t.nested").as_array();
  ASSERT_EQ(nested.items.size(), 2u);
  EXPECT_EQ(nested.items[0].as_array().items[1].as_int(), 2);
  EXPECT_EQ(nested.items[1].as_array().items[0].as_int(), 3);
  EXPECT_EQ(f.at("t.u16").type, GgufType::U16);

  // Tensor bytes come back exactly as written, aligned in the mapping.
  const std::vector<std::pair<const char*, const void*>> sources = {{"w.f32", f32_data()},
                                                                    {"w.f16", f16_data()},
                                                                    {"w.bf16", bf16_data()},
                                                                    {"w.q8_0", q8_data()},
                                                                    {"w.q4_0", q4_data()}};
  const DType dtypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_0};
  for (size_t i = 0; i < sources.size(); ++i) {
    const GgufTensorInfo* t = f.find_tensor(sources[i].first);
    ASSERT_NE(t, nullptr) << sources[i].first;
    EXPECT_EQ(t->dtype, dtypes[i]);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 64}));
    EXPECT_EQ(t->bytes, dtype_bytes(dtypes[i], 3 * 64));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(f.tensor_data(*t)) % 32, 0u);
    EXPECT_EQ(std::memcmp(f.tensor_data(*t), sources[i].second, t->bytes), 0) << sources[i].first;
  }
  // Writing the metadata back gives the same bytes.
  const std::string copy = temp_path("copy.gguf");
  GgufWriter w(copy);
  for (const auto& [key, value] : f.metadata()) w.set(key, value);
  EXPECT_NO_THROW(w.write());
  EXPECT_TRUE(GgufFile::open(copy).find("t.nested"));
}

void expect_error(const std::string& path, const std::string& bytes, const std::string& needle) {
  write_all(path, bytes);
  try {
    GgufFile::open(path);
    FAIL() << "no error for " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Gguf, EveryTruncationIsAnError) {
  const std::string bytes = read_all(write_sample("full.gguf"));
  const std::string path = temp_path("truncated.gguf");
  for (size_t n = 0; n < bytes.size(); n += (n < 2000 ? 1 : 97)) {
    write_all(path, bytes.substr(0, n));
    EXPECT_THROW(GgufFile::open(path), Error) << "prefix " << n;
  }
}

TEST(Gguf, RandomCorruptionNeverCrashes) {
  const std::string bytes = read_all(write_sample("full2.gguf"));
  const std::string path = temp_path("corrupt.gguf");
  std::mt19937 rng(7);
  for (int trial = 0; trial < 300; ++trial) {
    std::string b = bytes;
    for (int k = 0; k < 4; ++k) b[rng() % 1200] = char(rng());
    write_all(path, b);
    try {
      GgufFile f = GgufFile::open(path);
      for (const auto& t : f.tensors()) ASSERT_LE(t.bytes, b.size());
    } catch (const Error&) {
    }
  }
}

TEST(Gguf, NamedErrors) {
  const std::string good = read_all(write_sample("good.gguf"));
  const std::string path = temp_path("bad.gguf");
  expect_error(path, "GGUX" + good.substr(4), "wrong magic");
  std::string v1 = good;
  v1[4] = 1;
  expect_error(path, v1, "unsupported GGUF version 1");
  // Unknown tensor type: find w.f32's type field and set it to 99 / to q4_K (12).
  const size_t name_at = good.find("w.f32");
  const size_t type_at = name_at + 5 + 4 + 2 * 8;
  std::string bad_type = good;
  bad_type[type_at] = 99;
  expect_error(path, bad_type, "tensor w.f32: unknown tensor type 99");
  bad_type[type_at] = 12;
  expect_error(path, bad_type, "tensor w.f32: tensor type q4_k is not supported");
  // Data past the end: cut the last tensor's bytes.
  expect_error(path, good.substr(0, good.size() - 40), "tensor w.q4_0: data ends past end of file");
  expect_error(path, "", "wrong magic");
  EXPECT_THROW(GgufFile::open(temp_path("does-not-exist.gguf")), Error);
  EXPECT_THROW(GgufFile::open(fs::temp_directory_path().string()), Error);
}

}  // namespace
}  // namespace gb::io
