#include "cli/api_client.hpp"

#include <utility>
#include <vector>

#include "curl/curl.hpp"

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

}  // namespace podcd::cli
