#include "observe/trace_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>

#include "core/error.h"
#include "io/npy.h"
#include "observe/hook_catalog.h"

namespace gb {
namespace {

bool is_attention_matrix(HookSite s) {
  return s == HookSite::AttnScores || s == HookSite::Pattern;
}

// The final shape of a selection's tensor after `positions` positions (slices applied).
Shape final_shape(const HookSelection& sel, const ModelConfig& c, int64_t positions) {
  const Shape full =
      hook_shape(sel.point.site, c, {.batch = 1, .n_pos = positions, .k_len = positions});
  const auto keep = sel.kept_indices(full);
  Shape s = full;
  for (int a = 0; a < s.rank; ++a) s.dims[a] = int64_t(keep[size_t(a)].size());
  return s;
}

}  // namespace

struct TraceStream::File {
  const HookSelection* sel = nullptr;
  std::string file, path;
  int fd = -1;
  Shape shape;        // laid out for max_positions
  size_t header = 0;  // header bytes (fixed, rewritten in place by compact)
  bool attention = false;
};

int64_t capture_bytes(const HookPlan& plan, const ModelConfig& c, int64_t positions) {
  int64_t bytes = 0;
  for (const HookSelection& sel : plan.selections())
    bytes += final_shape(sel, c, positions).numel() * 4;
  return bytes;
}

TraceStream::TraceStream(TraceManifest& manifest, std::shared_ptr<const HookPlan> plan,
                         const ModelConfig& config, int64_t max_positions)
    : manifest_(manifest), plan_(std::move(plan)), max_positions_(max_positions) {
  for (const HookSelection& sel : plan_->selections()) {
    for (const AxisSlice& s : sel.slices)
      if (s.axis == SliceAxis::Pos)
        usage_fail(sel.name, sel.slice_text(),
                   ": position slices cannot be streamed to disk; slice the saved trace instead");
    File f;
    f.sel = &sel;
    f.file = trace_file_name(sel.name, TraceFormat::Npy);
    f.path = manifest.path_of(f.file);
    f.shape = final_shape(sel, config, max_positions);
    f.attention = is_attention_matrix(sel.point.site);
    const std::string header = io::npy_header("<f4", f.shape.to_vector(), 128);
    f.header = header.size();
    f.fd = ::open(f.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (f.fd < 0) fail(f.path, ": cannot create: ", std::strerror(errno));
    files_.push_back(f);
    write_at(files_.back(), -int64_t(f.header) / 4, reinterpret_cast<const float*>(header.data()),
             int64_t(header.size()) / 4);
    if (ftruncate(f.fd, off_t(f.header + size_t(f.shape.numel()) * 4)) != 0)
      fail(f.path, ": cannot size file: ", std::strerror(errno));
  }
}

TraceStream::~TraceStream() {
  for (File& f : files_)
    if (f.fd >= 0) ::close(f.fd);
}

void TraceStream::write_at(File& f, int64_t offset_floats, const float* data, int64_t n) {
  const char* p = reinterpret_cast<const char*>(data);
  size_t left = size_t(n) * 4;
  off_t off = off_t(int64_t(f.header) + offset_floats * 4);
  while (left > 0) {
    const ssize_t w = pwrite(f.fd, p, left, off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) fail(f.path, ": write failed: ", std::strerror(errno));
    p += w;
    off += w;
    left -= size_t(w);
  }
}

void TraceStream::on_hook(const HookPoint& point, TensorView& tensor) {
  const HookSelection* sel = plan_->find(point);
  if (!sel) return;
  File* f = nullptr;
  for (File& x : files_)
    if (x.sel == sel) f = &x;
  if (!f) return;
  const Tensor chunk = sel->sliced()
                           ? select_slices(*sel, tensor)
                           : Tensor(tensor.shape, {tensor.data, tensor.data + tensor.numel()});
  const Shape& c = chunk.shape();
  const int64_t T = max_positions_;
  if (point.pos0 + (f->attention ? c[2] : c[1]) > T)
    fail(f->path, ": more positions than the trace was laid out for");
  if (!f->attention) {  // [1, n, rest...] into [1, T, rest...]
    const int64_t rest = chunk.numel() / c[1];
    write_at(*f, point.pos0 * rest, chunk.data(), chunk.numel());
    return;
  }
  // [1, heads, n, k_len] rows into [1, heads, T, T]; scores beyond k_len are −inf.
  const int64_t heads = c[1], n = c[2], k_len = c[3];
  std::vector<float> row(static_cast<size_t>(T), point.site == HookSite::Pattern
                                                     ? 0.0f
                                                     : -std::numeric_limits<float>::infinity());
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t q = 0; q < n; ++q) {
      std::memcpy(row.data(), chunk.data() + (h * n + q) * k_len, size_t(k_len) * 4);
      write_at(*f, (h * T + point.pos0 + q) * T, row.data(), T);
    }
}

void TraceStream::compact(File& f, int64_t P) {
  const int64_t T = max_positions_;
  Shape s = f.shape;
  if (f.attention) {
    const int64_t heads = s[1];
    std::vector<float> row(static_cast<size_t>(P));
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t q = 0; q < P; ++q) {
        const off_t from = off_t(f.header + size_t((h * T + q) * T) * 4);
        if (pread(f.fd, row.data(), size_t(P) * 4, from) != ssize_t(P) * 4)
          fail(f.path, ": read back failed: ", std::strerror(errno));
        write_at(f, (h * P + q) * P, row.data(), P);
      }
    s.dims[2] = P;
    s.dims[3] = P;
  } else {
    s.dims[1] = P;
  }
  const std::string header = io::npy_header("<f4", s.to_vector(), f.header);
  if (header.size() != f.header) fail(f.path, ": header size changed while compacting");
  write_at(f, -int64_t(f.header) / 4, reinterpret_cast<const float*>(header.data()),
           int64_t(f.header) / 4);
  if (ftruncate(f.fd, off_t(f.header + size_t(s.numel()) * 4)) != 0)
    fail(f.path, ": cannot truncate: ", std::strerror(errno));
  f.shape = s;
}

void TraceStream::finish(int64_t positions) {
  if (positions <= 0 || positions > max_positions_)
    fail("trace stream finished at ", positions, " positions");
  for (File& f : files_) {
    if (positions < max_positions_) compact(f, positions);
    if (fsync(f.fd) != 0 || ::close(f.fd) != 0)
      fail(f.path, ": write failed: ", std::strerror(errno));
    f.fd = -1;
    manifest_.add_hook(*f.sel, f.shape.to_vector(), f.file);
  }
}

}  // namespace gb
