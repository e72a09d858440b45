// What the machine has: memory available now (for checks before a large allocation).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gb {

// Bytes the kernel reports as available for new allocations (MemAvailable of /proc/meminfo);
// nullopt where that cannot be read.
std::optional<double> available_memory_bytes();

// Throws UsageError "<what> would take X GiB; only Y GiB of memory is available" when `bytes` exceeds
// the memory available (checked before allocating, so that a size too large for the machine is
// one clear error instead of the kernel's OOM killer). Nothing when that cannot be read.
void require_memory(double bytes, const std::string& what);

}  // namespace gb
