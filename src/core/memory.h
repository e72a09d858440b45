// What the machine has: memory available now (for checks before a large allocation).
#pragma once

#include <cstdint>
#include <optional>

namespace gb {

// Bytes the kernel reports as available for new allocations (MemAvailable of /proc/meminfo);
// nullopt where that cannot be read.
std::optional<double> available_memory_bytes();

}  // namespace gb
