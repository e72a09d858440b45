#include "core/memory.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "core/error.h"

namespace gb {

std::optional<double> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key, unit;
  double value = 0;
  while (in >> key >> value) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return value * 1024.0;  // reported in kB
  }
  return std::nullopt;
}

namespace {

std::string gib(double bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", bytes / double(1 << 30));
  return buf;
}

}  // namespace

void require_memory(double bytes, const std::string& what) {
  const auto available = available_memory_bytes();
  if (available && bytes > *available)
    usage_fail(what, " would take ", gib(bytes), " GiB; only ", gib(*available),
               " GiB of memory is available");
}

}  // namespace gb
