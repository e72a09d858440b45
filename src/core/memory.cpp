#include "core/memory.h"

#include <fstream>
#include <string>

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

}  // namespace gb
