#include "cli/api_client.hpp"

#include <curl/curl.h>

#include <memory>

namespace podcd::cli {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

}  // namespace

Expected<ApiResponse> ApiCall(const std::string& method, const std::string& url, const std::string& token,
                              const std::string& body, std::chrono::seconds timeout) {
  static const bool initialised = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialised) return Fail(ErrorCode::kInternal, "curl_global_init failed");
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  curl_slist* list = nullptr;
  if (!token.empty()) list = curl_slist_append(list, ("Authorization: Bearer " + token).c_str());
  if (method == "POST") list = curl_slist_append(list, "Content-Type: application/json");
  std::unique_ptr<curl_slist, SlistDeleter> headers(list);
  if (headers) curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
  ApiResponse r;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, static_cast<long>(timeout.count()));
  if (method == "POST") {
    curl_easy_setopt(c.get(), CURLOPT_POST, 1L);
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  curl_easy_setopt(
      c.get(), CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* ud) -> size_t {
        auto* out = static_cast<std::string*>(ud);
        if (out->size() + s * n > (64u << 20)) return 0;
        out->append(p, s * n);
        return s * n;
      });
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &r.body);
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK) return Fail(ErrorCode::kUnavailable, curl_easy_strerror(rc), url);
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}

}  // namespace podcd::cli
