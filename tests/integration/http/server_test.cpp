// Starts the real Pistache server on a free loopback port and drives it with libcurl.
#include "http/server.hpp"

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "http/webhook.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"
#include "util/log.hpp"

#include "harness.hpp"

using namespace podcd;
using namespace podcd::test;

TEST_CASE("GET /health: 200 ok, 503 with the reasons") {
  Harness h;
  auto r = h.Get("/health");
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"ok"})");
  {
    http::ServerOptions o;
    o.version = "9.8.7";
    Harness versioned(o);
    CHECK(versioned.Get("/health").body == R"({"status":"ok","version":"9.8.7"})");
  }
  h.probe.Set({"Podman socket unreachable: /run/podman/podman.sock"});
  r = h.Get("/health");
  CHECK(r.status == 503);
  CHECK(r.body.find("Podman socket unreachable") != std::string::npos);
  CHECK(h.Post("/health", "").status == 405);
  CHECK(h.Get("/nope").status == 404);
}

TEST_CASE("GET /metrics: Prometheus text with requests by route and status, deployments by state") {
  Harness h;
  h.exec.Open();
  CHECK(h.Get("/health").status == 200);
  CHECK(h.Post("/deploy-all-changed", "{}", {"X-Hub-Signature-256: sha256=" + std::string(64, '0')}).status ==
        401);
  auto r = h.Post("/deploy-all-changed", std::string(kVectorBody), {"X-Hub-Signature-256: " + kVectorSig});
  REQUIRE(r.status == 202);
  REQUIRE(h.queue->Wait(QueuedId(r), std::chrono::seconds(30)));
  auto m = h.Get("/metrics");
  REQUIRE(m.status == 200);
  INFO(m.body);
  CHECK(m.body.find("podcd_http_requests_total{route=\"/health\",code=\"200\"}") != std::string::npos);
  CHECK(m.body.find("podcd_http_requests_total{route=\"/deploy-all-changed\",code=\"401\"}") !=
        std::string::npos);
  CHECK(m.body.find("podcd_http_requests_total{route=\"/deploy-all-changed\",code=\"202\"}") !=
        std::string::npos);
  CHECK(m.body.find("podcd_deployments_total{state=\"succeeded\"}") != std::string::npos);
  CHECK(m.body.find("podcd_deployment_duration_seconds_count") != std::string::npos);
  CHECK(h.Post("/metrics", "").status == 405);
}

TEST_CASE("GitHub's test vector is accepted and queues a deployment") {
  Harness h;
  h.exec.Open();
  auto r = h.Post("/deploy-all-changed", std::string(kVectorBody), {"X-Hub-Signature-256: " + kVectorSig});
  REQUIRE(r.status == 202);
  auto id = QueuedId(r);
  CHECK(r.body == R"({"deployment":")" + id + R"(","status":"queued"})");
  auto d = h.queue->Wait(id, std::chrono::seconds(30));
  REQUIRE(d);
  auto g = h.Get("/deployments/" + id);
  REQUIRE(g.status == 200);
  auto doc = Json(g.body);
  CHECK(Str(doc, "id") == id);
  CHECK(Str(doc, "state") == "succeeded");
  CHECK(Str(doc["trigger"], "kind") == "deploy-all-changed");
  CHECK(doc["log"].Size() >= 1);
  CHECK(h.Get("/deployments/20990101-000000-000001").status == 404);
  CHECK(h.Get("/deployments/..%2f..%2fetc").status == 404);
  CHECK(h.Get("/deployments/" + id, {}).status == 200);
}

TEST_CASE("every bad signature gets the same 401") {
  http::ServerOptions o;
  o.auth_failures_per_minute = 1000;
  Harness h(o);
  std::string body(kVectorBody);
  std::string good = kVectorSig.substr(7);
  std::string upper = good;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string wrong = good;
  wrong[5] = wrong[5] == 'a' ? 'b' : 'a';
  std::string nonhex = good;
  nonhex[0] = 'z';
  std::vector<std::vector<std::string>> cases = {
      {},                                                     // missing
      {"X-Hub-Signature-256;"},                               // empty (curl sends an empty header so)
      {"X-Hub-Signature-256: sha256="},                       // prefix alone
      {"X-Hub-Signature-256: sha256=" + good.substr(0, 40)},  // wrong length
      {"X-Hub-Signature-256: sha256=" + good + "ab"},
      {"X-Hub-Signature-256: sha256=" + upper},           // uppercase
      {"X-Hub-Signature-256: sha256=" + nonhex},          // non-hex
      {"X-Hub-Signature-256: sha256=" + wrong},           // wrong value
      {"X-Hub-Signature: sha1=" + std::string(40, 'a')},  // SHA-1 only
      {"X-Gitea-Signature: " + wrong},
      {"X-Gitlab-Token: not the secret"},
  };
  std::set<std::string> bodies;
  for (const auto& hs : cases) {
    auto r = h.Post("/deploy-all-changed", body, hs);
    CHECK(r.status == 401);
    bodies.insert(r.body);
    auto r2 = h.Post("/redeploy-and-update/web", body, hs);
    CHECK(r2.status == 401);
    bodies.insert(r2.body);
  }
  CHECK(bodies.size() == 1);
  CHECK(*bodies.begin() == std::string(http::kUnauthorizedBody));
  CHECK(h.store->List(10).empty());
  // Gitea and GitLab styles that are right are accepted.
  h.exec.Open();
  CHECK(h.Post("/deploy-all-changed", body, {"X-Gitea-Signature: " + good}).status == 202);
  CHECK(h.Post("/deploy-all-changed", body, {"X-Gitlab-Token: " + std::string(kSecret)}).status == 202);
}

TEST_CASE("failed authentications are rate limited per peer address, not per X-Forwarded-For") {
  http::ServerOptions o;
  o.auth_failures_per_minute = 3;
  Harness h(o);
  for (int i = 0; i < 3; ++i) {
    CHECK(h.Post("/deploy-all-changed", "x", {"X-Forwarded-For: 10.0.0." + std::to_string(i)}).status == 401);
  }
  auto r = h.Post("/deploy-all-changed", "x", {"X-Forwarded-For: 10.9.9.9"});
  CHECK(r.status == 429);
  // While blocked, a correct signature from this address is still processed: the limiter
  // refuses only failures (issue 13: a stranger sharing the git host's egress must not lock it out).
  CHECK(h.Signed("/deploy-all-changed").status == 202);
  CHECK(h.Post("/deploy-all-changed", "x").status == 429);
  // Other endpoints not needing authentication still answer.
  CHECK(h.Get("/health").status == 200);
}

TEST_CASE("behind a trusted proxy, each real client has its own limit and loses the loopback exemption") {
  // nginx on the same host: every request reaches podcd from 127.0.0.1. Without
  // trusted_proxies, ten bad signatures from anyone would lock GitHub out too.
  http::ServerOptions o;
  o.auth_failures_per_minute = 3;
  o.trusted_proxies = {"127.0.0.1"};
  Harness h(o);
  const std::string attacker = "X-Forwarded-For: 203.0.113.66";
  for (int i = 0; i < 3; ++i) CHECK(h.Post("/deploy-all-changed", "x", {attacker}).status == 401);
  CHECK(h.Post("/deploy-all-changed", "x", {attacker}).status == 429);
  // The attacker's own claim left of what the proxy appended changes nothing.
  CHECK(h.Post("/deploy-all-changed", "x", {"X-Forwarded-For: 198.51.100.9, 203.0.113.66"}).status == 429);
  // Another client through the same proxy is not blocked.
  CHECK(h.Signed("/deploy-all-changed", "", {"X-Forwarded-For: 140.82.115.1"}).status == 202);
  // The admin API answers loopback only: a request forwarded for an outside client is not
  // loopback, even when the client claims to be.
  CHECK(h.Get("/deployments", {"X-Forwarded-For: 127.0.0.1, 140.82.115.1"}).status == 403);
  CHECK(h.Get("/deployments").status == 200);
  CHECK(h.Get("/deployments", {"X-Forwarded-For: 127.0.0.1"}).status == 200);
}

TEST_CASE("ping answers pong and queues nothing; empty signed body triggers") {
  Harness h;
  auto r =
      h.Signed("/deploy-all-changed", R"({"zen":"Keep it logically awesome."})", {"X-GitHub-Event: ping"});
  CHECK(r.status == 200);
  CHECK(r.body == R"({"status":"pong"})");
  CHECK(h.store->List(10).empty());
  auto e = h.Signed("/deploy-all-changed", "");
  CHECK(e.status == 202);
}

TEST_CASE("a repeated X-GitHub-Delivery answers duplicate with the first id") {
  Harness h;
  h.exec.Open();
  auto a = h.Signed("/deploy-all-changed", "{}", {"X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"});
  REQUIRE(a.status == 202);
  auto id = QueuedId(a);
  h.queue->Wait(id, std::chrono::seconds(30));
  auto b = h.Signed("/deploy-all-changed", "{}", {"X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"});
  CHECK(b.status == 200);
  CHECK(b.body == R"({"status":"duplicate","deployment":")" + id + R"("})");
  // A bad signature with a known delivery id is still a 401, not a duplicate.
  CHECK(h.Post("/deploy-all-changed", "{}", {"X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"})
            .status == 401);
}

TEST_CASE("redeploy-and-update: names, unknown stacks, release actions, malformed JSON") {
  Harness h;
  h.exec.Open();
  CHECK(h.Signed("/redeploy-and-update/Web").status == 400);
  CHECK(h.Signed("/redeploy-and-update/a..b").status == 400);
  CHECK(h.Signed("/redeploy-and-update/").status == 400);
  CHECK(h.Signed("/redeploy-and-update/" + std::string(70, 'a')).status == 400);
  CHECK(h.Signed("/redeploy-and-update/nosuch").status == 404);
  auto ig =
      h.Signed("/redeploy-and-update/web", R"({"action":"created"})", {"Content-Type: application/json"});
  CHECK(ig.status == 200);
  CHECK(ig.body.starts_with(R"({"status":"ignored")"));
  auto bad = h.Signed("/redeploy-and-update/web", R"({"action":)", {"Content-Type: application/json"});
  CHECK(bad.status == 400);
  CHECK(bad.body.find("malformed JSON") != std::string::npos);
  CHECK(h.store->List(10).empty());
  auto ok =
      h.Signed("/redeploy-and-update/web", R"({"action":"published"})", {"Content-Type: application/json"});
  REQUIRE(ok.status == 202);
  auto d = h.queue->Wait(QueuedId(ok), std::chrono::seconds(30));
  REQUIRE(d);
  CHECK(d->trigger.stacks == std::vector<std::string>{"web"});
  CHECK(d->trigger.pull);
}

TEST_CASE("?wait=SECONDS returns the final record: 200 succeeded, 500 failed, 202 still running") {
  Harness h;
  std::thread releaser([&] {
    h.exec.WaitEntered(1);
    h.exec.Release();
  });
  auto r = h.Signed("/deploy-all-changed?wait=30");
  releaser.join();
  CHECK(r.status == 200);
  CHECK(Str(Json(r.body), "state") == "succeeded");

  h.exec.SetFail(true);
  std::thread releaser2([&] {
    h.exec.WaitEntered(2);
    h.exec.Release();
  });
  auto f = h.Signed("/redeploy-and-update/db?wait=30");
  releaser2.join();
  CHECK(f.status == 500);
  auto fd = Json(f.body);
  CHECK(Str(fd, "state") == "failed");
  CHECK(Str(fd, "reason").find("scripted failure") != std::string::npos);

  auto s = h.Signed("/redeploy-and-update/web?wait=1");
  CHECK(s.status == 202);
  CHECK(Str(Json(s.body), "state") == "running");
  h.exec.Release();
}

TEST_CASE("200 concurrent triggers during a slow run: all answered, exactly one more run") {
  http::ServerOptions o;
  o.max_connections_per_address = 256;  // 200 clients at once, all from loopback here
  Harness h(o);
  auto first = h.Signed("/deploy-all-changed", "", {"X-GitHub-Delivery: first"});
  REQUIRE(first.status == 202);
  h.exec.WaitEntered(1);
  std::vector<std::thread> threads;
  std::mutex m;
  std::vector<HttpResult> results;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      auto r = h.Signed("/deploy-all-changed", "{\"n\":" + std::to_string(i) + "}",
                        {"X-GitHub-Delivery: d-" + std::to_string(i), "X-GitHub-Event: push"});
      std::lock_guard lock(m);
      results.push_back(r);
    });
  }
  for (auto& t : threads) t.join();
  // A figure, not an assertion (the issue asks for under a second; machines vary).
  std::printf("200 concurrent triggers answered in %lld ms\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                      .count()));
  REQUIRE(results.size() == 200);
  std::set<std::string> ids;
  for (const auto& r : results) {
    CHECK(r.status == 202);
    ids.insert(QueuedId(r));
  }
  REQUIRE(ids.size() == 1);
  CHECK(*ids.begin() != QueuedId(first));
  // Only now does the first run end; the coalesced one runs after it, and nothing else.
  CHECK(h.exec.Entered() == 1);
  h.exec.Release(2);
  auto d = h.queue->Wait(*ids.begin(), std::chrono::seconds(30));
  REQUIRE(d);
  CHECK(d->state == state::DeploymentState::kSucceeded);
  CHECK(d->coalesced == 199);
  CHECK(h.queue->RunsStarted() == 2);
  CHECK(h.exec.Entered() == 2);
  // Every one of the 200 delivery ids is remembered with the coalesced run.
  CHECK(h.Signed("/deploy-all-changed", "", {"X-GitHub-Delivery: d-77"}).body.find(*ids.begin()) !=
        std::string::npos);
}

TEST_CASE("a full queue answers 503") {
  Harness h({}, 1);
  REQUIRE(h.Signed("/deploy-all-changed").status == 202);
  h.exec.WaitEntered(1);
  CHECK(h.Signed("/redeploy-and-update/web").status == 202);  // fills the one slot
  CHECK(h.Signed("/redeploy-and-update/web").status == 202);  // same work: joins it
  auto full = h.Signed("/redeploy-and-update/db");
  CHECK(full.status == 503);
  CHECK(full.body.find("queue is full") != std::string::npos);
  h.exec.Open();
}

TEST_CASE("body limits: 413 over the limit, lying Content-Length answered, server stays up") {
  http::ServerOptions o;
  o.max_body_bytes = 1000;
  o.max_header_bytes = 4096;
  o.request_timeout = std::chrono::milliseconds(500);
  Harness h(o);
  h.exec.Open();
  std::string big(1500, 'x');
  CHECK(h.Signed("/deploy-all-changed", big).status == 413);
  std::string huge(100000, 'x');
  CHECK(h.Signed("/deploy-all-changed", huge).status == 413);
  CHECK(h.Signed("/deploy-all-changed", std::string(900, 'x')).status == 202);
  // A real push payload far above Pistache's 4 KiB default passes with the default limits.
  {
    Harness big_ok;
    big_ok.exec.Open();
    CHECK(big_ok.Signed("/deploy-all-changed", std::string(200000, 'p')).status == 202);
  }
  auto port = h.server->Port();
  // Claims more than it sends, then stalls: answered when the request times out.
  auto more = test::RawExchange(
      port, "POST /deploy-all-changed HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\nshort");
  CHECK(more.starts_with("HTTP/1.1 408"));
  // Claims far more than the limit. Pistache 0.0.5 reserves the declared length before it
  // reads the body (virtual memory only; the bytes it accepts stay capped by maxRequestSize),
  // and answers 500 when the reservation fails: an error either way, and the server lives on.
#ifdef __SANITIZE_ADDRESS__
  // ASan aborts the process on a failed operator new instead of throwing std::bad_alloc, so
  // under ASan the claim stays within what can be reserved (it then times out: 408).
  const std::string claimed = "1000000000";
#else
  const std::string claimed = "99999999999";
#endif
  auto over = test::RawExchange(
      port, "POST /deploy-all-changed HTTP/1.1\r\nHost: x\r\nContent-Length: " + claimed + "\r\n\r\nshort");
  INFO(over);
  CHECK((over.starts_with("HTTP/1.1 4") || over.starts_with("HTTP/1.1 500")));
  // Claims less than it sends: the signed part is judged, the rest is a malformed request.
  auto less = test::RawExchange(
      port, "POST /deploy-all-changed HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nabcdefgh\r\n\r\n",
      std::chrono::seconds(3));
  CHECK(less.starts_with("HTTP/1.1 401"));
  // Too many header bytes.
  std::string fat = "POST /deploy-all-changed HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4500, 'h') +
                    "\r\nContent-Length: 0\r\n\r\n";
  auto fat_r = test::RawExchange(port, fat);
  CHECK((fat_r.starts_with("HTTP/1.1 431") || fat_r.starts_with("HTTP/1.1 413")));
  // A slow client that never finishes its headers is cut off.
  auto slow = test::RawExchange(port, "POST /deploy-all-changed HTTP/1.1\r\nHost: x\r\n");
  CHECK(slow.starts_with("HTTP/1.1 408"));
  CHECK(h.Get("/health").status == 200);
}

TEST_CASE("read and admin API: bearer token when configured") {
  http::ServerOptions o;
  o.api_token = "an-api-token-of-enough-length";
  o.auth_failures_per_minute = 100;
  Harness h(o);
  h.exec.Open();
  CHECK(h.Get("/deployments").status == 401);
  CHECK(h.Get("/deployments", {"Authorization: Bearer wrong-token"}).status == 401);
  CHECK(h.Get("/stacks", {"Authorization: Basic eDp5"}).status == 401);
  const std::string auth = "Authorization: Bearer an-api-token-of-enough-length";
  CHECK(h.Get("/deployments", {auth}).status == 200);
  auto st = h.Get("/stacks", {auth});
  REQUIRE(st.status == 200);
  auto sd = Json(st.body);
  REQUIRE(sd["stacks"].Size() == 2);
  CHECK(Str(sd["stacks"][0], "name") == "db");
  CHECK(Str(sd["stacks"][1], "name") == "web");
  CHECK(Str(sd["stacks"][1], "state") == "unknown");

  CHECK(h.Post("/deploy", R"({"stacks":["web"]})").status == 401);
  auto dep = h.Post("/deploy", R"({"stacks":["web","web"],"pull":true})", {auth});
  REQUIRE(dep.status == 202);
  auto rec = h.queue->Wait(QueuedId(dep), std::chrono::seconds(30));
  REQUIRE(rec);
  CHECK(rec->trigger.KindWord() == "deploy");
  CHECK(rec->trigger.stacks == std::vector<std::string>{"web"});
  CHECK(h.Post("/deploy", R"({"stacks":["web"],"all_changed":true,"pull":"yes"})", {auth}).status == 400);
  CHECK(h.Post("/deploy", "{", {auth}).status == 400);
  CHECK(h.Post("/deploy", R"({"stacks":["nosuch"]})", {auth}).status == 404);
  CHECK(h.Post("/deploy", R"({"stacks":["../x"]})", {auth}).status == 400);
  auto all = h.Post("/deploy?wait=30", R"({"all_changed":true})", {auth});
  CHECK(all.status == 200);
  auto list = h.Get("/deployments?limit=1", {auth});
  REQUIRE(list.status == 200);
  CHECK(Json(list.body)["deployments"].Size() == 1);
  CHECK(h.Get("/deployments?limit=0", {auth}).status == 400);
  CHECK(h.Get("/deployments?limit=abc", {auth}).status == 400);
  // The stack listing names the last deployment that touched it.
  auto st2 = Json(h.Get("/stacks", {auth}).body);
  CHECK(Str(st2["stacks"][1], "last_deployment") == rec->id);
}

TEST_CASE("without a token the API answers loopback clients") {
  Harness h;
  CHECK(h.Get("/deployments").status == 200);
  CHECK(h.Get("/stacks").status == 200);
}

TEST_CASE("records and delivery ids survive a restart") {
  test::TempDir dir;
  std::string id;
  {
    Harness h({}, 8, &dir);
    h.exec.Open();
    auto r = h.Signed("/deploy-all-changed", "", {"X-GitHub-Delivery: survive-1"});
    REQUIRE(r.status == 202);
    id = QueuedId(r);
    h.queue->Wait(id, std::chrono::seconds(30));
  }
  Harness h({}, 8, &dir);
  auto g = h.Get("/deployments/" + id);
  REQUIRE(g.status == 200);
  CHECK(Str(Json(g.body), "state") == "succeeded");
  auto dup = h.Signed("/deploy-all-changed", "", {"X-GitHub-Delivery: survive-1"});
  CHECK(dup.status == 200);
  CHECK(dup.body.find(id) != std::string::npos);
  // A new id sorts after the old one.
  h.exec.Open();
  auto n = h.Signed("/deploy-all-changed");
  CHECK(QueuedId(n) > id);
}

TEST_CASE("the secret never appears in a response or a log line") {
  log::ClearSecretsForTest();  // no masking: prove nothing tries to print it
  std::mutex m;
  std::vector<std::string> lines;
  auto old = log::SetSink([&](log::Level, std::string_view line) {
    std::lock_guard lock(m);
    lines.emplace_back(line);
  });
  std::vector<std::string> bodies;
  {
    http::ServerOptions o;
    o.auth_failures_per_minute = 2;
    o.api_token = "the-api-token-is-also-secret";
    Harness h(o);
    h.exec.Open();
    auto keep = [&](const HttpResult& r) { bodies.push_back(r.body); };
    keep(h.Post("/deploy-all-changed", "x", {"X-Gitlab-Token: " + std::string(kSecret) + "x"}));
    keep(h.Post("/deploy-all-changed", "x", {"X-Hub-Signature-256: sha256=" + std::string(64, '0')}));
    keep(h.Post("/deploy-all-changed", "x", {"X-Hub-Signature-256: sha256=" + std::string(64, '0')}));
    keep(h.Signed("/deploy-all-changed", "x"));
    keep(h.Get("/deployments", {"Authorization: Bearer nope"}));
    keep(h.Get("/deployments", {"Authorization: Bearer the-api-token-is-also-secret"}));
  }
  log::SetSink(old);
  const std::string expected_hmac = http::HmacSha256Hex(kSecret, "x");
  REQUIRE_FALSE(lines.empty());
  for (const auto& s : bodies) {
    CHECK(s.find(kSecret) == std::string::npos);
    CHECK(s.find(expected_hmac) == std::string::npos);
    CHECK(s.find("the-api-token-is-also-secret") == std::string::npos);
  }
  for (const auto& l : lines) {
    CHECK(l.find(kSecret) == std::string::npos);
    CHECK(l.find(expected_hmac) == std::string::npos);
    CHECK(l.find("the-api-token-is-also-secret") == std::string::npos);
  }
}

TEST_CASE("graceful shutdown answers a waiting request and records the run as interrupted") {
  test::TempDir dir;
  std::string body;
  long status = 0;
  {
    Harness h({}, 8, &dir);
    std::thread client([&] {
      auto r = h.Signed("/deploy-all-changed?wait=60");
      status = r.status;
      body = r.body;
    });
    h.exec.WaitEntered(1);
    h.server->Shutdown(std::chrono::seconds(10));
    client.join();
    // New requests are no longer served (Pistache keeps the listening socket until the
    // endpoint is destroyed, so the connection may simply go unanswered: a short timeout).
    CHECK_FALSE(Call("GET", h.base + "/health", {}, "", 2).status == 200);
  }
  CHECK(status == 500);
  auto d = Json(body);
  CHECK(Str(d, "state") == "failed");
  CHECK(Str(d, "reason") == "interrupted");
}

TEST_CASE("a port already in use is a clear start-up error") {
  Harness h;
  test::TempDir dir;
  auto store = state::Store::Open(dir.path());
  REQUIRE(store);
  GatedExecutor exec;
  reconcile::WorkQueue q(**store, exec, 4);
  http::DirectoryCatalog catalog(dir.path().string());
  http::ServerOptions o;
  o.secret = std::string(kSecret);
  o.port = h.server->Port();
  http::Server second(o, **store, q, catalog);
  auto r = second.Start();
  REQUIRE_FALSE(r);
  CHECK(r.error().What().find("cannot listen") != std::string::npos);
  CHECK(r.error().What().find(std::to_string(o.port)) != std::string::npos);
}

namespace {

// A server on a free loopback port over its own store and queue, with the given catalog and
// probe (no repository: for the tests that bring their own catalog).
struct BareServer {
  explicit BareServer(http::StackCatalog& catalog, http::HealthProbe* probe = nullptr) {
    auto s = state::Store::Open(dir.path());
    REQUIRE(s);
    store = std::move(*s);
    queue = std::make_unique<reconcile::WorkQueue>(*store, exec, 4);
    http::ServerOptions o;
    o.secret = std::string(kSecret);
    o.host = "127.0.0.1";
    o.port = 0;
    server = std::make_unique<http::Server>(o, *store, *queue, catalog, probe);
    REQUIRE(server->Start());
  }
  ~BareServer() {
    exec.Open();
    server->Shutdown(std::chrono::seconds(5));
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->Port()) + path;
  }
  test::TempDir dir;
  GatedExecutor exec;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<reconcile::WorkQueue> queue;
  std::unique_ptr<http::Server> server;
};

// Holds whoever Pass()es until Open(); counts them.
struct Gate {
  void Pass() {
    std::unique_lock lock(m);
    ++calls;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  }
  void WaitCalls(int n) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return calls >= n; });
  }
  void Open() {
    std::lock_guard lock(m);
    open = true;
    cv.notify_all();
  }
  int Calls() {
    std::lock_guard lock(m);
    return calls;
  }
  std::mutex m;
  std::condition_variable cv;
  int calls = 0;
  bool open = false;
};

// Runs `request` in a thread; once `gate` holds it, `more` more in threads of their own;
// returns the threads.
std::vector<std::thread> Concurrently(Gate& gate, int more, const std::function<void()>& request) {
  std::vector<std::thread> clients;
  clients.emplace_back(request);
  gate.WaitCalls(1);
  for (int i = 0; i < more; ++i) clients.emplace_back(request);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // they reach the server
  return clients;
}

}  // namespace

TEST_CASE("GET /stacks answers 503 with the reason when the stacks cannot be observed") {
  struct FailingCatalog final : http::StackCatalog {
    bool Exists(std::string_view) override { return true; }
    Expected<std::vector<http::StackInfo>> List() override {
      return Fail(ErrorCode::kUnavailable, "cannot connect to /run/podman/podman.sock", "__stacks");
    }
  };
  FailingCatalog catalog;
  BareServer b(catalog);
  auto r = Call("GET", b.Url("/stacks"), {});
  CHECK(r.status == 503);
  CHECK(Str(Json(r.body), "error") ==
        "cannot observe the stacks: __stacks: cannot connect to /run/podman/podman.sock");
}

TEST_CASE(
    "GET /stacks is answered off the reactor threads; requests waiting meanwhile share one observation") {
  // List() blocks until opened. Before, each GET /stacks held a reactor thread (2) for its
  // whole observation: with two of them waiting, /health and webhooks got no answer.
  struct GatedCatalog final : http::StackCatalog {
    bool Exists(std::string_view) override { return true; }
    Expected<std::vector<http::StackInfo>> List() override {
      gate.Pass();
      return std::vector<http::StackInfo>{{"web", "c1", "f1", "in-sync", "d1"}};
    }
    Gate gate;
  };
  GatedCatalog catalog;
  BareServer b(catalog);
  std::atomic<int> ok{0};
  auto clients = Concurrently(catalog.gate, 7, [&] {
    auto r = Call("GET", b.Url("/stacks"), {}, "", 20);
    if (r.status == 200 && Str(Json(r.body), "error") == "<missing>" &&
        r.body.find("\"name\":\"web\"") != std::string::npos)
      ++ok;
  });
  // While the observation blocks and seven more requests wait, the server still answers.
  CHECK(Call("GET", b.Url("/health"), {}, "", 5).status == 200);
  CHECK(Call("POST", b.Url("/deploy-all-changed"), {Sig("")}, "", 5).status == 202);
  catalog.gate.Open();
  for (auto& t : clients) t.join();
  CHECK(ok == 8);
  CHECK(catalog.gate.Calls() == 2);  // the first request's, then one for the seven that waited
}

TEST_CASE("a /health that waits on Podman holds no reactor thread; waiting probes share one check") {
  // The daemon's probe pings Podman (up to 2 s when it hangs). Before, two such requests held
  // both reactor threads, and webhooks waited for them.
  struct GatedProbe final : http::HealthProbe {
    std::vector<std::string> Problems() override {
      gate.Pass();
      return {"podman socket /run/podman/podman.sock: timed out"};
    }
    Gate gate;
  };
  GatedProbe probe;
  test::TempDir repo;
  http::DirectoryCatalog catalog(repo.path().string());
  BareServer b(catalog, &probe);
  std::atomic<int> unhealthy{0};
  auto clients = Concurrently(probe.gate, 3, [&] {
    auto r = Call("GET", b.Url("/health"), {}, "", 20);
    if (r.status == 503 && r.body.find("timed out") != std::string::npos) ++unhealthy;
  });
  CHECK(Call("POST", b.Url("/deploy-all-changed"), {Sig("")}, "", 5).status == 202);
  CHECK(Call("GET", b.Url("/metrics"), {}, "", 5).status == 200);
  probe.gate.Open();
  for (auto& t : clients) t.join();
  CHECK(unhealthy == 4);
  CHECK(probe.gate.Calls() == 2);
}

TEST_CASE("answers stay valid JSON when what they quote is invalid UTF-8") {
  auto strict = [](const std::string& text) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    return !d.HasParseError();
  };
  // Lone continuation, truncated sequence, overlong form, surrogate, 0xFF.
  const std::string bad = "\x80\xe2\x82\xc0\xaf\xed\xa0\x80\xff";
  Harness h;
  h.exec.Open();
  // An error message that quotes the request (400), one that names an unknown stack (404).
  auto name = h.Post("/deploy", R"({"stacks":[")" + bad + R"("]})");
  CHECK(name.status == 400);
  CHECK(strict(name.body));
  // A record whose event came from a header, served by GET /deployments/{id} and the list.
  auto t = h.Signed("/deploy-all-changed", "", {"X-GitHub-Event: push" + bad});
  REQUIRE(t.status == 202);
  auto id = QueuedId(t);
  REQUIRE(h.queue->Wait(id, std::chrono::seconds(30)));
  auto one = h.Get("/deployments/" + id);
  CHECK(one.status == 200);
  CHECK(strict(one.body));
  CHECK(one.body.find("\xef\xbf\xbd") != std::string::npos);
  auto list = h.Get("/deployments");
  CHECK(list.status == 200);
  CHECK(strict(list.body));
  // Valid UTF-8 in a header keeps its bytes.
  auto u = h.Signed("/deploy-all-changed", "", {"X-GitHub-Event: caf\xc3\xa9"});
  REQUIRE(u.status == 202);
  auto rec = h.queue->Wait(QueuedId(u), std::chrono::seconds(30));
  REQUIRE(rec);
  CHECK(rec->trigger.event == "caf\xc3\xa9");
  CHECK(h.Get("/deployments/" + QueuedId(u)).body.find("\"event\":\"caf\xc3\xa9\"") != std::string::npos);
}

namespace {

// One client connection spoken to byte by byte: curl would pick its own Connection headers.
class RawConnection {
 public:
  struct Answer {
    int status = 0;
    std::string head;  // status line and header fields
    std::string body;
    bool Says(std::string_view field_line) const {
      std::string lower_head = head, lower_line(field_line);
      for (auto* s : {&lower_head, &lower_line})
        std::transform(s->begin(), s->end(), s->begin(), [](unsigned char c) { return std::tolower(c); });
      return lower_head.find("\r\n" + lower_line + "\r\n") != std::string::npos;
    }
  };
  static constexpr auto kBound = std::chrono::seconds(20);

  // `receive_buffer` (bytes, 0: the system's) keeps the socket's receive buffer small.
  explicit RawConnection(std::uint16_t port, int receive_buffer = 0)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  }
  ~RawConnection() { ::close(fd_); }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      REQUIRE(n > 0);
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // The next answer; nullopt when the server closes the connection or kBound passes first.
  std::optional<Answer> Read() {
    std::size_t end;
    while ((end = in_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill()) return std::nullopt;
    Answer a;
    a.head = in_.substr(0, end + 2);
    a.status = std::atoi(a.head.c_str() + 9);
    std::size_t length = 0;
    if (auto cl = a.head.find("Content-Length: "); cl != std::string::npos)
      length = std::strtoul(a.head.c_str() + cl + 16, nullptr, 10);
    while (in_.size() < end + 4 + length)
      if (!Fill()) return std::nullopt;
    a.body = in_.substr(end + 4, length);
    in_.erase(0, end + 4 + length);
    return a;
  }
  std::optional<Answer> Exchange(std::string_view request) {
    Send(request);
    return Read();
  }
  // Whether the server ends the connection (end of stream, nothing more sent) within kBound.
  bool Closed() { return !Fill() && eof_ && in_.empty(); }

 private:
  bool Fill() {
    auto deadline = std::chrono::steady_clock::now() + kBound;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      in_.append(buf, static_cast<std::size_t>(n));
      return true;
    }
    return false;
  }
  int fd_;
  std::string in_;
  bool eof_ = false;
};

std::string Request(std::string_view method, std::string_view target, std::string_view version,
                    std::vector<std::string> fields = {}, std::string_view body = {}) {
  std::string r = std::string(method) + " " + std::string(target) + " HTTP/" + std::string(version) +
                  "\r\nHost: 127.0.0.1\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  for (const auto& f : fields) r += f + "\r\n";
  return r + "\r\n" + std::string(body);
}

}  // namespace

TEST_CASE("HTTP/1.1 connections persist without a Connection header, for every kind of answer") {
  Harness h;
  RawConnection c(h.server->Port());
  const std::string ping = R"({"zen":"Design for failure."})";
  struct Step {
    std::string request;
    int status;
    std::string says = {};  // a field line the answer carries
  };
  const std::vector<Step> steps = {
      {Request("GET", "/health", "1.1"), 200},                         // deferred answer
      {Request("GET", "/nope", "1.1"), 404},                           // no route
      {Request("POST", "/health", "1.1"), 405, "Allow: GET"},          // wrong method
      {Request("POST", "/deploy-all-changed", "1.1", {}, "{}"), 401},  // webhook, unsigned
      {Request("POST", "/deploy-all-changed", "1.1", {"X-GitHub-Event: ping", Sig(ping)}, ping), 200},
      {Request("GET", "/deployments?limit=0", "1.1"), 400},                            // API error
      {Request("POST", "/deploy-all-changed?wait=1", "1.1", {Sig("{}")}, "{}"), 202},  // ?wait= answer
      {Request("POST", "/deploy-all-changed", "1.1", {Sig("{}")}, "{}"), 202},         // webhook, queued
      {Request("GET", "/health", "1.1"), 200},
  };
  for (const auto& step : steps) {
    INFO(step.request);
    auto a = c.Exchange(step.request);
    REQUIRE(a);
    CHECK(a->status == step.status);
    CHECK_FALSE(a->Says("Connection: close"));
    if (!step.says.empty()) CHECK(a->Says(step.says));
  }
  h.exec.Open();
}

// The idle bound (request_timeout) is set beyond RawConnection::kBound: a connection seen to end
// was ended by its answer, not by the idle timeout.
http::ServerOptions LongIdle() {
  http::ServerOptions o;
  o.request_timeout = std::chrono::seconds(60);
  return o;
}

TEST_CASE("Connection: close, and HTTP/1.0 without keep-alive, end the connection after the answer") {
  Harness h(LongIdle());
  const std::vector<std::string> closing = {
      Request("GET", "/nope", "1.1", {"Connection: close"}),
      Request("GET", "/health", "1.1", {"Connection: close"}),
      Request("POST", "/deploy-all-changed", "1.1", {"Connection: Close"}, "{}"),
      Request("POST", "/deploy-all-changed", "1.1", {"Connection: keep-alive, close", Sig("{}")}, "{}"),
      Request("GET", "/nope", "1.0"),
      Request("GET", "/health", "1.0"),
      Request("POST", "/deploy-all-changed", "1.0", {}, "{}"),
  };
  for (const auto& request : closing) {
    INFO(request);
    RawConnection c(h.server->Port());
    auto a = c.Exchange(request);
    REQUIRE(a);
    CHECK(a->Says("Connection: close"));
    CHECK(c.Closed());
  }
  h.exec.Open();
}

TEST_CASE("HTTP/1.0 with Connection: keep-alive keeps its connection") {
  Harness h(LongIdle());
  RawConnection c(h.server->Port());
  for (const auto& request :
       {Request("GET", "/health", "1.0", {"Connection: keep-alive"}),
        Request("GET", "/nope", "1.0", {"Connection: Keep-Alive"}),
        Request("POST", "/deploy-all-changed", "1.0", {"Connection: keep-alive"}, "{}")}) {
    INFO(request);
    auto a = c.Exchange(request);
    REQUIRE(a);
    CHECK(a->Says("Connection: keep-alive"));
  }
  // The last one without keep-alive ends it.
  auto last = c.Exchange(Request("GET", "/health", "1.0"));
  REQUIRE(last);
  CHECK(last->status == 200);
  CHECK(c.Closed());
}

TEST_CASE("an idle persistent connection is closed after webhook.request_timeout") {
  http::ServerOptions o;
  o.request_timeout = std::chrono::milliseconds(500);
  Harness h(o);
  RawConnection c(h.server->Port());
  auto a = c.Exchange(Request("GET", "/nope", "1.1"));
  REQUIRE(a);
  CHECK(a->status == 404);
  CHECK(c.Closed());  // within RawConnection::kBound, not forever
  CHECK(h.Get("/health").status == 200);
}

TEST_CASE("answers keep the fields the server adds to them, on one persistent connection") {
  http::ServerOptions o;
  o.api_token = "the-api-token-of-this-test";
  o.auth_failures_per_minute = 1;
  Harness h(o);
  RawConnection c(h.server->Port());
  auto denied = c.Exchange(Request("GET", "/deployments", "1.1"));
  REQUIRE(denied);
  CHECK(denied->status == 401);
  CHECK(denied->Says("WWW-Authenticate: Bearer"));
  CHECK(denied->body == R"({"error":"missing or invalid bearer token"})");
  auto limited = c.Exchange(Request("GET", "/deployments", "1.1"));
  REQUIRE(limited);
  CHECK(limited->status == 429);
  CHECK(limited->Says("Retry-After: 60"));
  CHECK(limited->Says("Content-Type: application/json"));
  auto health = c.Exchange(Request("GET", "/health", "1.1"));
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("an answer larger than the socket takes at once arrives whole, and the connection goes on") {
  Harness h({}, 200);
  // Deploys of many stacks have records far larger than a socket buffer the client keeps small.
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    names.push_back("stack-" + std::to_string(i) + "-" + std::string(52, 'x'));
    std::filesystem::create_directories(h.root / "repo/services" / names.back());
  }
  // A hundred different deployments: a list of them (6.5 MB) is more than the kernel's largest
  // send buffer for a socket (tcp_wmem, 4 MiB by default).
  for (std::size_t left_out = 0; left_out < 100; ++left_out) {
    std::string body = R"({"stacks":[)";
    for (std::size_t i = 0; i < names.size(); ++i)
      if (i != left_out) body += (body.back() == '[' ? "\"" : ",\"") + names[i] + "\"";
    REQUIRE(h.Post("/deploy", body + "]}").status == 202);
  }
  RawConnection c(h.server->Port(), 4096);
  // The first answer fills the socket while the client reads nothing; the next request comes
  // while the rest of that answer waits in Pistache's writer, and its answer must follow it,
  // with the fields the server added (Pistache's own writer left those out).
  c.Send(Request("GET", "/deployments?limit=100", "1.1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the server writes what fits
  c.Send(Request("POST", "/health", "1.1"));
  auto list = c.Read();
  REQUIRE(list);
  CHECK(list->status == 200);
  CHECK(list->body.size() > 6000000);
  auto d = Json(list->body);
  REQUIRE(d.IsObject());
  CHECK(d["deployments"].Size() == 100);
  auto next = c.Read();
  REQUIRE(next);
  CHECK(next->status == 405);
  CHECK(next->Says("Allow: GET"));
  CHECK(c.Exchange(Request("GET", "/nope", "1.1"))->status == 404);
  h.exec.Open();
}

TEST_CASE("thirty bad signatures then a good one from the same address: the good one is accepted") {
  Harness h;  // the default limit: 10 failures a minute
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    auto r = h.Post("/deploy-all-changed", "{}", {"X-Hub-Signature-256: sha256=" + std::string(64, '0')});
    CHECK((r.status == 401 || r.status == 429));
    limited += r.status == 429 ? 1 : 0;
  }
  CHECK(limited == 20);
  auto good = h.Signed("/deploy-all-changed", "{}", {"X-GitHub-Delivery: after-thirty"});
  CHECK(good.status == 202);
  CHECK(QueuedId(good) != "<missing>");
  // Gitea's and GitLab's ways too, and a bearer token on the API.
  CHECK(h.Post("/deploy-all-changed", "{}", {"X-Gitea-Signature: " + http::HmacSha256Hex(kSecret, "{}")})
            .status == 202);
  CHECK(h.Post("/deploy-all-changed", "{}", {"X-Gitlab-Token: " + std::string(kSecret)}).status == 202);
  // Still limited for whoever keeps failing.
  CHECK(h.Post("/deploy-all-changed", "{}").status == 429);
}

TEST_CASE("a wrong API token is limited, a right one from the same address is not") {
  http::ServerOptions o;
  o.api_token = "the-api-token-of-this-test";
  o.auth_failures_per_minute = 2;
  Harness h(o);
  for (int i = 0; i < 5; ++i) h.Get("/deployments", {"Authorization: Bearer wrong"});
  CHECK(h.Get("/deployments", {"Authorization: Bearer wrong"}).status == 429);
  CHECK(h.Get("/deployments", {"Authorization: Bearer the-api-token-of-this-test"}).status == 200);
}

TEST_CASE("behind a trusted proxy that adds a line of its own, the client's own line is not believed") {
  http::ServerOptions o;
  o.auth_failures_per_minute = 3;
  o.trusted_proxies = {"127.0.0.1"};
  Harness h(o);
  // HAProxy's `option forwardfor` adds a line; the client wrote the first one.
  auto get = [&](std::vector<std::string> fields) {
    RawConnection c(h.server->Port());
    auto a = c.Exchange(Request("GET", "/deployments", "1.1", std::move(fields)));
    return a ? a->status : 0;
  };
  CHECK(get({"X-Forwarded-For: 127.0.0.1", "X-Forwarded-For: 203.0.113.9"}) == 403);
  CHECK(get({"X-Forwarded-For: 127.0.0.1", "x-forwarded-for: 198.51.100.1, 203.0.113.9"}) == 403);
  CHECK(get({"X-Forwarded-For: 127.0.0.1", "X-Forwarded-For: [2001:db8::9]:4711"}) == 403);
  CHECK(get({"X-Forwarded-For: 203.0.113.9", "X-Forwarded-For: 127.0.0.1"}) == 403);  // right-most untrusted
  CHECK(get({"X-Forwarded-For: 127.0.0.1"}) == 200);
  CHECK(get({}) == 200);
  // The failures count against the address the proxy saw, whatever the client writes first.
  auto bad = [&](const std::string& claim) {
    RawConnection c(h.server->Port());
    auto a = c.Exchange(Request("POST", "/deploy-all-changed", "1.1",
                                {"X-Forwarded-For: " + claim, "X-Forwarded-For: 203.0.113.66"}, "x"));
    return a ? a->status : 0;
  };
  for (int i = 0; i < 3; ++i) CHECK(bad("10.0.0." + std::to_string(i)) == 401);
  CHECK(bad("10.0.0.99") == 429);
  // Several requests on one connection: each is read with its own lines.
  RawConnection c(h.server->Port());
  auto first = c.Exchange(
      Request("GET", "/deployments", "1.1", {"X-Forwarded-For: 1.1.1.1", "X-Forwarded-For: 127.0.0.1"}));
  REQUIRE(first);
  CHECK(first->status == 403);
  auto second = c.Exchange(Request("GET", "/deployments", "1.1", {"X-Forwarded-For: 127.0.0.1"}));
  REQUIRE(second);
  CHECK(second->status == 200);
}

TEST_CASE("behind a trusted proxy, a request whose header block cannot be read is from nobody") {
  http::ServerOptions o;
  o.trusted_proxies = {"127.0.0.1"};
  o.request_timeout = std::chrono::seconds(2);  // Pistache 0.0.5 waits out a folded request (408)
  Harness h(o);
  // Two requests in one write: the second one's lines are not read (the scanner takes one header
  // block per read), so it must not count as the proxy's own loopback request.
  RawConnection c(h.server->Port());
  c.Send(Request("GET", "/health", "1.1") +
         Request("GET", "/deployments", "1.1", {"X-Forwarded-For: 203.0.113.9"}));
  auto first = c.Read();
  REQUIRE(first);
  CHECK(first->status == 200);
  if (auto second = c.Read()) CHECK(second->status == 403);  // Pistache may drop what follows
  // A folded line: which field it continues is anybody's guess.
  RawConnection folded(h.server->Port());
  auto a = folded.Exchange(
      Request("GET", "/deployments", "1.1", {"X-Forwarded-For: 203.0.113.9", " , 127.0.0.1"}));
  if (a) CHECK(a->status != 200);  // 408 from Pistache 0.0.5, 403 from podcd if it read on
}

TEST_CASE("a delivery is processed at most once whatever the path it is replayed to") {
  Harness h;
  h.exec.Open();
  const std::string release = R"({"action":"created"})";
  // Ignored on one path, then replayed where it would deploy: still the same delivery.
  auto ignored = h.Signed("/redeploy-and-update/web", release, {"X-GitHub-Delivery: d-ignored"});
  CHECK(ignored.status == 200);
  CHECK(ignored.body.find("ignored") != std::string::npos);
  auto replay = h.Signed("/deploy-all-changed", release, {"X-GitHub-Delivery: d-ignored"});
  CHECK(replay.status == 200);
  CHECK(replay.body == R"({"status":"duplicate"})");
  // Queued on one path, replayed to another (and to another stack, and with another spelling).
  auto a = h.Signed("/deploy-all-changed", "{}", {"X-GitHub-Delivery: d-one"});
  REQUIRE(a.status == 202);
  const std::string id = QueuedId(a);
  const std::string dup = R"({"status":"duplicate","deployment":")" + id + R"("})";
  for (const char* path : {"/redeploy-and-update/web", "/redeploy-and-update/db", "/deploy-all-changed"}) {
    INFO(path);
    auto r = h.Signed(path, "{}", {"X-GitHub-Delivery: d-one"});
    CHECK(r.status == 200);
    CHECK(r.body == dup);
  }
  CHECK(h.Signed("/redeploy-and-update/web", "{}", {"X-Gitea-Delivery: d-one"}).body == dup);
  CHECK(h.Signed("/redeploy-and-update/web", "{}", {"X-Gitlab-Event-UUID: d-one"}).body == dup);
  // Ids the store could not keep as they are (a space, 300 bytes) are remembered all the same.
  std::set<std::string> queued{id};
  for (const std::string& odd : {std::string("id with spaces"), std::string(300, 'x')}) {
    auto first = h.Signed("/deploy-all-changed", "{}", {"X-GitHub-Delivery: " + odd});
    REQUIRE(first.status == 202);
    queued.insert(QueuedId(first));
    auto again = h.Signed("/redeploy-and-update/web", "{}", {"X-GitHub-Delivery: " + odd});
    CHECK(again.status == 200);
    CHECK(again.body == R"({"status":"duplicate","deployment":")" + QueuedId(first) + R"("})");
  }
  for (const auto& d : h.store->List(20)) INFO(d.id);
  // d-one and the two odd ids, each queued once (a trigger that finds the same work still queued
  // joins it, so there may be fewer records than deliveries): nothing queued twice.
  CHECK(h.store->List(20).size() == queued.size());
}

namespace {
// A new connection is ended by the server, with a 503 or nothing, well before a client would
// give up (the request may meet a reset: it is sent without checking).
bool Refused(std::uint16_t port) {
  const auto start = std::chrono::steady_clock::now();
  const std::string got = test::RawExchange(port, Request("GET", "/health", "1.1"), std::chrono::seconds(30));
  INFO(got);
  return (got.empty() || got.starts_with("HTTP/1.1 503")) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(20);
}
}  // namespace

TEST_CASE("connections over the per-address cap are closed at once; the others are still served") {
  Harness h;  // the defaults: 1024 in total, 64 per address
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 64; ++i) open.push_back(std::make_unique<RawConnection>(h.server->Port()));
  // Each of them is admitted: it is answered. Every one is asked before the probes, so that
  // the server has accepted all 64 (a loaded machine accepts them in its own time, and a probe
  // accepted before the last of them would take its place).
  for (auto& c : open) {
    auto a = c->Exchange(Request("GET", "/health", "1.1"));
    REQUIRE(a);
    CHECK(a->status == 200);
  }
  for (int i = 0; i < 3; ++i) CHECK(Refused(h.server->Port()));
  auto last = open.back()->Exchange(Request("GET", "/health", "1.1"));
  REQUIRE(last);
  CHECK(last->status == 200);
  // Closed connections give their places back.
  open.resize(60);
  std::optional<RawConnection::Answer> again;
  for (int i = 0; i < 200 && !(again && again->status == 200); ++i) {
    RawConnection c(h.server->Port());
    again = c.Exchange(Request("GET", "/health", "1.1"));
    if (!(again && again->status == 200)) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE(again);
  CHECK(again->status == 200);
}

TEST_CASE("the total connection cap holds; a trusted proxy is held only to the total") {
  http::ServerOptions o;
  o.max_connections = 6;
  o.max_connections_per_address = 2;
  o.trusted_proxies = {"127.0.0.1"};
  Harness h(o);
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 6; ++i) open.push_back(std::make_unique<RawConnection>(h.server->Port()));
  for (auto& c : open) {
    auto a = c->Exchange(Request("GET", "/health", "1.1"));
    REQUIRE(a);
    CHECK(a->status == 200);
  }
  CHECK(Refused(h.server->Port()));
}
