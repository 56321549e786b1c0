#include "cli/api_client.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>
#include <vector>

#include "curl/curl.hpp"
#include "util/strings.hpp"

namespace podcd::cli {

Expected<ApiResponse> ApiCall(const std::string& method, const std::string& url, const std::string& token,
                              const std::string& body, std::chrono::seconds timeout) {
  curl::CurlOptions options;
  options.base_url.clear();  // `url` is whole
  options.peer = "podcd";
  curl::Curl client(std::move(options));
  std::vector<std::string> headers;
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  auto r = client.Request(method, url, body, headers, timeout);
  if (!r) return std::unexpected(r.error());
  return ApiResponse{r->status, std::move(r->body)};
}

Expected<std::string> ResolveApiToken(const std::string& token_file, const std::string& fallback) {
  if (!token_file.empty()) {
    auto text = ReadFile(token_file, 64 << 10);
    if (!text) return std::unexpected(text.error().WithContext(token_file));
    return std::string(Trim(*text));
  }
  for (const char* name : {"PODCD_TOKEN", "PODCD_API_TOKEN"}) {
    const char* env = std::getenv(name);
    if (env != nullptr && *env != '\0') return std::string(Trim(env));
  }
  return fallback;
}

std::string ServerUrl(std::string server) {
  if (server.empty()) {
    const char* env = std::getenv("PODCD_SERVER");
    server = env && *env ? env : "http://127.0.0.1:8080";
  }
  while (!server.empty() && server.back() == '/') server.pop_back();
  return server;
}

std::optional<std::string> ApiToken(const std::string& token_file, std::string_view command) {
  auto token = ResolveApiToken(token_file, "");
  if (!token) {
    std::fprintf(stderr, "podcd %.*s: %s\n", static_cast<int>(command.size()), command.data(),
                 token.error().What().c_str());
    return std::nullopt;
  }
  return *token;
}

}  // namespace podcd::cli
