// The HTTP answers as values: status codes for errors, and every JSON body the API sends.
#pragma once

#include <condition_variable>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "http/catalog.hpp"
#include "state/deployment.hpp"
#include "util/error.hpp"
#include "util/guarded.hpp"

namespace podcd::http {

inline constexpr std::string_view kJsonType = "application/json";
inline constexpr std::string_view kTextType = "text/plain";

struct Answer {
  int status = 200;
  std::string body;
  std::string_view content_type = kJsonType;
  bool close = false;  // Connection: close (the request was refused before its body was read)
  // Further header fields (a page's security headers, Set-Cookie, Location).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// The one mapping of an error to an HTTP status: 400 invalid argument, 401 unauthenticated,
// 403 permission denied, 404 not found, 409 already exists, 503 unavailable, 504 timeout,
// 500 for I/O and internal errors.
[[nodiscard]] int HttpStatus(ErrorCode code);

// {"error":"<message>"}
[[nodiscard]] std::string ErrorBody(std::string_view message);
// The error's status with ErrorBody(message) (the context stays in the log).
[[nodiscard]] Answer ErrorAnswer(const Error& error);

// {"<key>":"<value>",...}, in the order given: {"status":"pong"}, {"status":"ignored","reason":...}.
[[nodiscard]] std::string FlatObject(
    std::initializer_list<std::pair<std::string_view, std::string_view>> fields);

// {"deployments":[<record>,...]}, each record with its last `log_lines` lines.
[[nodiscard]] std::string DeploymentsBody(const std::vector<state::Deployment>& deployments,
                                          std::size_t log_lines);

// GET /health: 200 {"status":"ok"[,"version":...]} or 503 {"status":"unhealthy","reasons":[...]}.
[[nodiscard]] Answer HealthAnswer(const std::vector<std::string>& problems, std::string_view version);

// GET /stacks: {"stacks":[{"name","commit","fingerprint","state","last_deployment"},...]}; a
// stack without a last deployment gets the newest of `recent` that touched it.
[[nodiscard]] std::string StacksBody(std::vector<StackInfo> stacks,
                                     const std::vector<state::Deployment>& recent);

// Ends the loop thread of an answer component: sets `stop` in its guarded state, wakes the
// loop and joins it outside the lock (the loop may take the lock to answer what waits).
// Idempotent. `thread` is only touched under the state's lock.
template <typename State>
void StopLoop(Guarded<State>& state, std::condition_variable& cv, std::thread& thread) {
  std::thread ending;
  {
    auto s = state.Lock();
    s->stop = true;
    cv.notify_all();
    ending = std::move(thread);
  }
  if (ending.joinable()) ending.join();
}

}  // namespace podcd::http
