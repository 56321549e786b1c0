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

// The bearer token for the daemon's API: the contents of --token-file FILE when given, else
// $PODCD_TOKEN (a per-user token, `podcd token create`), else $PODCD_API_TOKEN, else
// `fallback` (the configuration's shared api.token, or "").
Expected<std::string> ResolveApiToken(const std::string& token_file, const std::string& fallback);

}  // namespace podcd::cli
