// The page's files (web/), compiled into the binary by cmake/embed_files.cmake, and the page
// built from them: web/index.html with every /*gb:inline PATH*/ marker replaced by that file, so
// the page is one document that needs nothing beside it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace gb::viewer {

struct EmbeddedFile {
  const char* path;  // relative to web/: "index.html", "js/app.js"
  const unsigned char* data;
  size_t size;
};
extern const EmbeddedFile kEmbeddedFiles[];
extern const int kEmbeddedFileCount;

// The embedded file at `path`; throws gb::Error if there is none.
std::string_view asset(std::string_view path);

enum class PageMode {
  Server,  // data from the API of the server that sent the page
  Static,  // data recorded in the page (glassbox view --html); no network at all
};

// The page. data_json: for Static pages, the recorded replies (a JSON document).
// Its Content-Security-Policy allows no request but to the server it came from (Server) or none
// at all (Static).
std::string page_html(PageMode mode, const std::string& data_json = "");

}  // namespace gb::viewer
