#include "export/event_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "core/error.h"
#include "export/events.h"

namespace gb::tb {
namespace {

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

void make_log_dir(const std::filesystem::path& log_dir) {
  std::error_code error;
  std::filesystem::create_directories(log_dir, error);
  if (error) fail("cannot create log directory ", log_dir.string(), ": ", error.message());
  if (!std::filesystem::is_directory(log_dir, error))
    fail("log directory ", log_dir.string(), " exists and is not a directory");
}

}  // namespace

std::unique_ptr<RecordWriter> open_event_file(const std::filesystem::path& log_dir,
                                              std::string_view suffix, double wall_time) {
  if (suffix.find('/') != std::string_view::npos)
    fail("event file name suffix '", suffix, "' must not contain '/'");
  make_log_dir(log_dir);
  std::string stem = cat("events.out.tfevents.", int64_t(wall_time), ".", host_name());
  for (int attempt = 0;; ++attempt) {
    std::string name = attempt == 0 ? cat(stem, suffix) : cat(stem, ".", attempt, suffix);
    std::filesystem::path path = log_dir / name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST && attempt < 1000) continue;
    if (fd < 0)
      fail("cannot create an event file in log directory ", log_dir.string(), ": ",
           std::strerror(errno));
    auto writer = std::make_unique<RecordWriter>(fd, path);
    writer->append(file_version_event(wall_time));
    writer->flush();
    return writer;
  }
}

}  // namespace gb::tb
