// CRC32C (Castagnoli), the checksum TensorBoard's record framing uses, and TensorFlow's masking.
//
// CRC32C is the reflected CRC-32 with polynomial 0x1EDC6F41 (0x82F63B78 bit-reversed), initial
// value and final xor 0xFFFFFFFF, as in RFC 3720 (iSCSI). crc32c("123456789") == 0xE3069283.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace gb::tb {

// CRC32C of `data`, continuing from the CRC of what came before (`crc` = 0 for a fresh start):
// crc32c(a + b) == crc32c(b, crc32c(a)).
uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc = 0);
uint32_t crc32c(std::string_view data, uint32_t crc = 0);

// TensorFlow stores CRCs "masked" so that a CRC of bytes that themselves contain CRCs stays
// well distributed: rotate right by 15 bits, then add 0xA282EAD8 (mod 2^32).
constexpr uint32_t mask_crc(uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

}  // namespace gb::tb
