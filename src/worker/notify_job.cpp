// `podcd __notify`: sends the daemon's notices and commit statuses (notify/wire.hpp), so the
// daemon links no libcurl.
// Requests to one target go one after another, in order. Per request: up to three tries (5 s each, 2 s to
// connect), 0.5 s then 1 s apart; a 2xx answer is success; redirects are not followed; TLS is verified
// (libcurl's defaults).
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "curl/curl.hpp"
#include "notify/wire.hpp"
#include "util/guarded.hpp"
#include "util/log.hpp"
#include "worker/jobs.hpp"

namespace podcd::worker {
namespace {

using namespace std::chrono_literals;

constexpr int kTries = 3;
constexpr std::chrono::milliseconds kTryTimeout = 5s;
constexpr std::chrono::milliseconds kConnectTimeout = 2s;
constexpr std::chrono::milliseconds kBackOff[] = {500ms, 1000ms};
constexpr std::size_t kMaxRequests = 256;

Guarded<std::FILE*> g_results{stdout};

void Emit(const notify::SendResult& r) {
  const std::string line = notify::EncodeResult(r) + "\n";
  auto out = g_results.Lock();
  std::fwrite(line.data(), 1, line.size(), *out);
  std::fflush(*out);
}

// Worth another try: no answer, a server error, or "too many requests".
bool Retry(const notify::SendResult& r) { return r.status == 0 || r.status >= 500 || r.status == 429; }

notify::SendResult Send(const notify::SendRequest& request) {
  notify::SendResult result;
  result.id = request.id;
  curl::CurlOptions options;
  options.base_url.clear();
  options.peer = request.out.target;
  options.connect_timeout = kConnectTimeout;
  options.max_body_bytes = std::size_t{1} << 20;
  curl::Curl curl(options);
  std::vector<std::string> headers;
  headers.reserve(request.out.headers.size());
  for (const auto& [name, value] : request.out.headers) headers.push_back(name + ": " + value);
  for (int attempt = 0; attempt < kTries; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(kBackOff[attempt - 1]);
    result.tries = attempt + 1;
    auto answer = curl.Request(request.out.method, request.out.url, request.out.body, headers, kTryTimeout);
    if (answer) {
      result.status = answer->status;
      result.error.clear();
      result.sent = answer->status >= 200 && answer->status < 300;
    } else {
      // The message alone: the error's context is the request line, URL and all.
      result.status = 0;
      result.error = log::Masked(answer.error().message);
      log::MaskSecret(result.error, request.out.url);
    }
    if (result.sent || !Retry(result)) break;
  }
  return result;
}

}  // namespace

int RunNotify(const cli::GlobalOptions& /*g*/, const cli::Args& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "podcd __notify: takes no arguments\n");
    return 2;
  }
  std::vector<notify::SendRequest> requests;
  for (std::string line; std::getline(std::cin, line);) {
    if (line.empty()) continue;
    auto r = notify::DecodeRequest(line);
    if (!r) {
      std::fprintf(stderr, "podcd __notify: unreadable request: %s\n", r.error().message.c_str());
      continue;
    }
    if (requests.size() >= kMaxRequests) break;
    requests.push_back(std::move(*r));
  }
  // One thread per target, its requests in their order (a status's pending before its
  // success); targets side by side, so one that hangs holds up no other.
  std::map<std::string, std::vector<const notify::SendRequest*>> by_target;
  for (const auto& r : requests) by_target[r.out.target].push_back(&r);
  std::vector<std::thread> threads;
  threads.reserve(by_target.size());
  for (const auto& [target, list] : by_target) {
    threads.emplace_back([&list] {
      for (const auto* r : list) Emit(Send(*r));
    });
  }
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace podcd::worker
