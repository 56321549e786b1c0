// A small blocking HTTP client (libcurl) for the CLI subcommands that talk to a daemon.
#pragma once

#include <chrono>
#include <string>

#include "util/error.hpp"

namespace podcd::cli {

struct ApiResponse {
  long status = 0;
  std::string body;
};

// GET or POST `url` with an optional bearer token and JSON body; bodies over 64 MiB fail.
Expected<ApiResponse> ApiCall(const std::string& method, const std::string& url, const std::string& token,
                              const std::string& body = {},
                              std::chrono::seconds timeout = std::chrono::seconds(30));

}  // namespace podcd::cli
