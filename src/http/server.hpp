// The HTTP face of podcd: signed triggers, deployment status, admin API (Pistache inside).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "events/bus.hpp"
#include "http/catalog.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "util/error.hpp"

namespace podcd::http {

class DeferredAnswers;
class ImageLoader;

struct ServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (tests), see Server::Port()
  std::string secret;
  std::string api_token;
  std::size_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 << 10;
  std::int64_t auth_failures_per_minute = 10;
  std::chrono::milliseconds request_timeout{10000};
  int threads = 2;
  std::size_t max_waiting_requests = 256;  // concurrent ?wait= requests
  std::chrono::seconds max_wait{3600};
  std::string version;  // in GET /health's answer ("" leaves it out) when the server makes its answers
  // Peers whose X-Forwarded-For names the client (ClientResolver, http/webhook.hpp).
  std::vector<std::string> trusted_proxies;
  // Open connections: a connection over a cap is closed as soon as it is accepted. Trusted
  // proxies are held only to the total (they carry many clients).
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 64;
  // Who may use the API and the dashboard (http/gate.hpp): "" for no users.
  std::string users_file;
  std::string tokens_file;  // per-user API tokens ("" : none)
  std::string base_path;    // http.base_path: "" or "/prefix"
  std::string branch;       // shown on the dashboard
  std::string audit_dir;    // where audit.log is kept (the state directory); "" : no audit log
  // Where <state_dir>/stack-controls.json is (POST /actions/suspend/... and the like); "" turns
  // those actions into 503s.
  std::string state_dir;
  std::int64_t upload_max_bytes = std::int64_t{2} << 30;  // upload.max_bytes
};

ServerOptions OptionsFromConfig(const config::Config& config);

class Server {
 public:
  // GET /health, /metrics and /stacks are answered by `answers` (http/deferred_answers.hpp),
  // which must outlive the server; the server starts them and stops them in Shutdown(). GET
  // /events streams what `bus` publishes (null: a quiet stream); the bus must outlive the server.
  Server(ServerOptions options, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog,
         DeferredAnswers& answers, events::Bus* bus = nullptr);
  // The same with answers of its own, from `health` (may be null) and options.version.
  Server(ServerOptions options, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog,
         HealthProbe* health = nullptr, events::Bus* bus = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the reactor threads. Call after blocking signals in the calling thread.
  Expected<void> Start();
  [[nodiscard]] std::uint16_t Port() const;
  // SIGHUP: the webhook secret, the API token and the users file of later requests. A users file
  // that cannot be read keeps the old one (the error says why); the rest changes anyway.
  Expected<void> UpdateCredentials(std::string secret, std::string api_token, std::string users_file = {});

  // Graceful stop: new requests get 503, in-flight requests are answered (waiting for them
  // at most `drain_timeout`), the queue is stopped (its running deployment reaches a safe point;
  // ?wait= callers get the final record), then the reactor is shut down. Idempotent.
  void Shutdown(std::chrono::milliseconds drain_timeout);

  // Who loads POST /upload's archives (http/upload.hpp; must outlive the server); without one,
  // uploads answer 503. Before Start().
  void SetImageLoader(ImageLoader* loader);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace podcd::http
