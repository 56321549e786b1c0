// A small blocking HTTP client (libcurl) for the CLI subcommands that talk to a daemon.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

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
// --server, else $PODCD_SERVER, else http://127.0.0.1:8080; without trailing slashes.
std::string ServerUrl(std::string server);

// ResolveApiToken without a fallback; nullopt when the file cannot be read (said on stderr,
// after "podcd <command>: ").
std::optional<std::string> ApiToken(const std::string& token_file, std::string_view command);

}  // namespace podcd::cli
