// Creating a new TensorBoard event file in a log directory.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "export/record_writer.h"

namespace gb::tb {

// Creates `log_dir` (and its parents) if missing, then a new event file in it named
//   events.out.tfevents.<unix seconds>.<hostname><suffix>
// (".1", ".2", ... is inserted before the suffix if that name is taken, so two writers opened in
// the same second never share a file), writes the file-version event and flushes it.
// Throws gb::Error naming the directory if it cannot be created or written.
std::unique_ptr<RecordWriter> open_event_file(const std::filesystem::path& log_dir,
                                              std::string_view suffix, double wall_time);

}  // namespace gb::tb
