// The dashboard's static files, compiled into the binary: no CDN, no external font or request.
#pragma once

#include <string_view>

namespace podcd::web {

struct Asset {
  std::string_view path;  // under BASE/static/
  std::string_view content_type;
  std::string_view body;
};

// The asset at `path` ("podcd.css"), or nullptr.
const Asset* FindAsset(std::string_view path);

}  // namespace podcd::web
