// TraceStream: writes the hook tensors of an incremental run (a prompt, then one token at a
// time) straight into .npy files of their final shape, so capturing a long generation needs no
// memory for the activations. Files are laid out for `max_positions` and compacted by finish()
// to the positions actually run; the manifest is written by the caller after finish().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "model/config.h"
#include "observe/hook_plan.h"
#include "observe/trace_writer.h"

namespace gb {

class TraceStream : public Observer {
 public:
  // Throws UsageError for position-sliced selections (their final length is not known ahead).
  TraceStream(TraceManifest& manifest, std::shared_ptr<const HookPlan> plan,
              const ModelConfig& config, int64_t max_positions);
  ~TraceStream() override;
  TraceStream(const TraceStream&) = delete;
  TraceStream& operator=(const TraceStream&) = delete;

  void on_hook(const HookPoint& point, TensorView& tensor) override;
  // Compacts every file to `positions` and lists them in the manifest.
  void finish(int64_t positions);

 private:
  struct File;
  void write_at(File& f, int64_t offset_floats, const float* data, int64_t n);
  void compact(File& f, int64_t positions);

  TraceManifest& manifest_;
  std::shared_ptr<const HookPlan> plan_;
  int64_t max_positions_;
  std::vector<File> files_;
};

// Bytes a capture of `plan` occupies after `positions` positions (attention grows
// quadratically), for deciding between memory and disk.
int64_t capture_bytes(const HookPlan& plan, const ModelConfig& config, int64_t positions);

}  // namespace gb
