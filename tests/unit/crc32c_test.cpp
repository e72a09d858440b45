#include "export/crc32c.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "export/record_writer.h"

namespace gb::tb {
namespace {

TEST(Crc32c, StandardCheckValue) {
  // The CRC-32C "check" value: the CRC of the ASCII digits 1..9.
  EXPECT_EQ(crc32c(std::string_view("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string_view("")), 0u);
}

TEST(Crc32c, Rfc3720Vectors) {
  // RFC 3720 (iSCSI), appendix B.4.
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i) up[i] = uint8_t(i), down[i] = uint8_t(31 - i);
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(up), 0x46DD794Eu);
  EXPECT_EQ(crc32c(down), 0x113FDB5Cu);
}

TEST(Crc32c, ExtendEqualsOneShot) {
  std::string text = "The quick brown fox jumps over the lazy dog, 0123456789.";
  for (size_t split = 0; split <= text.size(); ++split) {
    std::string_view a(text.data(), split), b(text.data() + split, text.size() - split);
    EXPECT_EQ(crc32c(b, crc32c(a)), crc32c(std::string_view(text))) << split;
  }
}

TEST(Crc32c, MaskRotatesRightBy15AndAddsTheDelta) {
  EXPECT_EQ(mask_crc(0), 0xA282EAD8u);
  EXPECT_EQ(mask_crc(0x00008000u), 0xA282EAD9u);             // bit 15 -> bit 0
  EXPECT_EQ(mask_crc(0x00000001u), 0xA282EAD8u + 0x20000u);  // bit 0 -> bit 17
  EXPECT_EQ(mask_crc(0x80000000u), 0xA282EAD8u + 0x10000u);  // bit 31 -> bit 16
}

TEST(RecordFraming, LayoutAroundThePayload) {
  std::string payload = "abc";
  std::string record = frame_record(payload);
  ASSERT_EQ(record.size(), 8 + 4 + 3 + 4u);
  EXPECT_EQ(record.substr(0, 8), std::string("\x03\0\0\0\0\0\0\0", 8));  // u64 LE length
  EXPECT_EQ(record.substr(12, 3), payload);
  auto u32_at = [&](size_t pos) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | uint8_t(record[pos + size_t(i)]);
    return v;
  };
  EXPECT_EQ(u32_at(8), mask_crc(crc32c(std::string_view(record.data(), 8))));
  EXPECT_EQ(u32_at(15), mask_crc(crc32c(std::string_view(payload))));
}

}  // namespace
}  // namespace gb::tb
