#include "export/crc32c.h"

#include <array>

namespace gb::tb {
namespace {

constexpr uint32_t kReflectedPolynomial = 0x82F63B78u;

// table[b] = CRC register after shifting byte b through the polynomial eight times.
constexpr std::array<uint32_t, 256> make_table() {
  std::array<uint32_t, 256> table{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t r = b;
    for (int bit = 0; bit < 8; ++bit) r = (r & 1) ? (r >> 1) ^ kReflectedPolynomial : r >> 1;
    table[b] = r;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kTable = make_table();

}  // namespace

uint32_t crc32c(std::span<const uint8_t> data, uint32_t crc) {
  uint32_t r = ~crc;
  for (uint8_t byte : data) r = kTable[(r ^ byte) & 0xFF] ^ (r >> 8);
  return ~r;
}

uint32_t crc32c(std::string_view data, uint32_t crc) {
  return crc32c({reinterpret_cast<const uint8_t*>(data.data()), data.size()}, crc);
}

}  // namespace gb::tb
