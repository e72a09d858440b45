#include "export/summary_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "export/record_writer.h"

namespace gb {
namespace {

namespace fs = std::filesystem;

// A fresh, empty directory under the system temp dir, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "gb_summary_XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(SummaryWriter, LogDirThatCannotBeCreatedIsNamed) {
  TempDir tmp;
  fs::path blocker = tmp.path() / "a_file";
  std::ofstream(blocker) << "x";
  fs::path log_dir = blocker / "run";
  std::string message = error_of([&] { SummaryWriter writer(log_dir); });
  EXPECT_NE(message.find("cannot create log directory " + log_dir.string()), std::string::npos)
      << message;
}

TEST(SummaryWriter, WritesNothingButTheHeaderUntilFlushed) {
  TempDir tmp;
  SummaryWriter writer(tmp.path(), {.flush_seconds = 0});
  auto header_size = fs::file_size(writer.file_path());
  EXPECT_GT(header_size, 16u);
  writer.add_scalar("x", 1.0f, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(fs::file_size(writer.file_path()), header_size);
  writer.flush();
  EXPECT_GT(fs::file_size(writer.file_path()), header_size);
}

TEST(SummaryWriter, BackgroundThreadFlushesOnItsTimer) {
  TempDir tmp;
  SummaryWriter writer(tmp.path(), {.flush_seconds = 0.05});
  auto header_size = fs::file_size(writer.file_path());
  writer.add_scalar("x", 1.0f, 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fs::file_size(writer.file_path()) == header_size &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_GT(fs::file_size(writer.file_path()), header_size);
}

TEST(SummaryWriter, TwoWritersInOneDirectoryGetTwoFiles) {
  TempDir tmp;
  SummaryWriter a(tmp.path()), b(tmp.path());
  EXPECT_NE(a.file_path(), b.file_path());
  EXPECT_EQ(a.file_path().parent_path(), b.file_path().parent_path());
  EXPECT_NE(a.file_path().filename().string().find("events.out.tfevents."), std::string::npos);
}

TEST(SummaryWriter, ClosedWriterRefusesEvents) {
  TempDir tmp;
  SummaryWriter writer(tmp.path());
  writer.close();
  writer.close();  // idempotent
  EXPECT_NE(error_of([&] { writer.add_scalar("x", 1.0f, 0); }).find("closed"), std::string::npos);
}

TEST(SummaryWriter, RejectsBadTagsAndEmptyHistograms) {
  TempDir tmp;
  SummaryWriter writer(tmp.path());
  EXPECT_THROW(writer.add_scalar("", 1.0f, 0), Error);
  EXPECT_THROW(writer.add_scalar("bad\xff", 1.0f, 0), Error);
  EXPECT_THROW(writer.add_histogram("h", std::span<const float>(), 0), Error);
}

TEST(SummaryWriter, HistogramReportCountsWhatWasLeftOut) {
  TempDir tmp;
  SummaryWriter writer(tmp.path(), {.warn_non_finite = false});
  std::vector<float> values = {1.0f, NAN, INFINITY, 2.0f};
  HistogramReport r = writer.add_histogram("h", values, 0);
  EXPECT_EQ(r.counted, 2);
  EXPECT_EQ(r.nan_count, 1);
  EXPECT_EQ(r.inf_count, 1);
  EXPECT_TRUE(r.written);
  std::vector<float> nans = {NAN};
  EXPECT_FALSE(writer.add_histogram("h", nans, 1).written);
}

TEST(RecordWriter, FullDiskThrowsNamingTheFileAndStaysFailed) {
  int fd = ::open("/dev/full", O_WRONLY);
  ASSERT_GE(fd, 0);
  tb::RecordWriter writer(fd, "/dev/full");
  writer.append("payload");
  std::string message = error_of([&] { writer.flush(); });
  EXPECT_NE(message.find("cannot write event file /dev/full: No space left on device"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("1 event(s) lost"), std::string::npos) << message;
  EXPECT_EQ(error_of([&] { writer.append("more"); }), message);
  EXPECT_EQ(error_of([&] { writer.close(); }), message);
}

}  // namespace
}  // namespace gb
