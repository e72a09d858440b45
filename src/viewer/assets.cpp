#include "viewer/assets.h"

#include "core/error.h"

namespace gb::viewer {
namespace {

constexpr std::string_view kInline = "/*gb:inline ";

// Replaces the first `marker` in `text` by `with`; throws if the marker is missing.
void replace_marker(std::string& text, std::string_view marker, const std::string& with) {
  const size_t at = text.find(marker);
  if (at == std::string::npos) fail("web/index.html has no ", marker, " marker");
  text.replace(at, marker.size(), with);
}

// JSON placed inside <script type="application/json">: '<' escaped, so no "</script>" or
// "<!--" can end or confuse the element (a '<' can only occur inside JSON strings).
std::string script_safe_json(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
  return out;
}

}  // namespace

std::string_view asset(std::string_view path) {
  for (int i = 0; i < kEmbeddedFileCount; ++i)
    if (path == kEmbeddedFiles[i].path)
      return {reinterpret_cast<const char*>(kEmbeddedFiles[i].data), kEmbeddedFiles[i].size};
  fail("the page has no file web/", path);
}

std::string page_html(PageMode mode, const std::string& data_json) {
  std::string page(asset("index.html"));
  for (size_t at = page.find(kInline); at != std::string::npos; at = page.find(kInline, at)) {
    const size_t end = page.find("*/", at);
    if (end == std::string::npos) fail("web/index.html: unterminated gb:inline marker");
    const std::string path = page.substr(at + kInline.size(), end - at - kInline.size());
    const std::string_view content = asset(path);
    if (content.find("</script") != std::string_view::npos ||
        content.find("</style") != std::string_view::npos)
      fail("web/", path, " contains a closing </script> or </style> and cannot be inlined");
    page.replace(at, end + 2 - at, content);
    at += content.size();
  }
  const std::string connect = mode == PageMode::Server ? "'self'" : "'none'";
  replace_marker(page, "/*gb:csp*/",
                 "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                 "img-src data:; connect-src " +
                     connect + "; base-uri 'none'; form-action 'none'");
  replace_marker(page, "/*gb:data*/",
                 mode == PageMode::Static ? script_safe_json(data_json) : std::string("null"));
  return page;
}

}  // namespace gb::viewer
