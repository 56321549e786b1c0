// The server test harness: a real Pistache server on a free loopback port, a gated executor
// that holds runs until released, and JSON helpers (server_test.cpp, dashboard_test.cpp).
#pragma once

#include <rapidjson/document.h>
#include <catch2/catch.hpp>

#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/server.hpp"
#include "http/webhook.hpp"
#include "support/http_client.hpp"
#include "support/temp_dir.hpp"

namespace podcd::test {

using namespace podcd;

inline constexpr std::string_view kSecret = "It's a Secret to Everybody";
inline constexpr std::string_view kVectorBody = "Hello, World!";
inline const std::string kVectorSig =
    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

inline std::string Sig(std::string_view body) {
  return "X-Hub-Signature-256: sha256=" + http::HmacSha256Hex(kSecret, body);
}

// Runs are held until released, so tests control what is running when.
class GatedExecutor final : public reconcile::Executor {
 public:
  Expected<void> Run(const state::Trigger& trigger, reconcile::RunContext& ctx) override {
    ctx.Log("gated run of " + trigger.KindWord());
    std::unique_lock lock(m_);
    ++entered_;
    cv_.notify_all();
    // Polls StopRequested() like a real engine at its safe points.
    while (!(open_ || releases_ > 0 || ctx.StopRequested()))
      cv_.wait_for(lock, std::chrono::milliseconds(10));
    if (releases_ > 0) {
      --releases_;
    } else if (!open_) {
      return Fail(ErrorCode::kUnavailable, "stopped at a safe point");
    }
    ++finished_;
    if (fail_) return Fail(ErrorCode::kInternal, "scripted failure");
    return {};
  }
  void Release(int n = 1) {
    std::lock_guard lock(m_);
    releases_ += n;
    cv_.notify_all();
  }
  void Open() {
    std::lock_guard lock(m_);
    open_ = true;
    cv_.notify_all();
  }
  void WaitEntered(int n) {
    std::unique_lock lock(m_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  int Entered() {
    std::lock_guard lock(m_);
    return entered_;
  }
  void SetFail(bool f) {
    std::lock_guard lock(m_);
    fail_ = f;
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  int entered_ = 0;
  int finished_ = 0;
  int releases_ = 0;
  bool open_ = false;
  bool fail_ = false;
};

class FakeProbe final : public http::HealthProbe {
 public:
  std::vector<std::string> Problems() override {
    std::lock_guard lock(m_);
    return problems_;
  }
  void Set(std::vector<std::string> p) {
    std::lock_guard lock(m_);
    problems_ = std::move(p);
  }

 private:
  std::mutex m_;
  std::vector<std::string> problems_;
};

struct Harness {
  explicit Harness(http::ServerOptions o = {}, std::size_t queue_limit = 8,
                   const test::TempDir* reuse = nullptr)
      : dir_(reuse ? nullptr : std::make_unique<test::TempDir>()), root((reuse ? *reuse : *dir_).path()) {
    std::filesystem::create_directories(root / "repo/services/web");
    std::filesystem::create_directories(root / "repo/services/db");
    auto s = state::Store::Open(root / "state");
    REQUIRE(s);
    store = std::move(*s);
    queue = std::make_unique<reconcile::WorkQueue>(*store, exec, queue_limit);
    catalog = std::make_unique<http::DirectoryCatalog>((root / "repo/services").string());
    o.secret = std::string(kSecret);
    if (o.audit_dir.empty()) o.audit_dir = (root / "state").string();
    o.port = 0;
    o.host = "127.0.0.1";
    server = std::make_unique<http::Server>(o, *store, *queue, *catalog, &probe);
    queue->Start();
    auto r = server->Start();
    REQUIRE(r);
    base = "http://127.0.0.1:" + std::to_string(server->Port());
  }
  ~Harness() {
    exec.Open();
    server->Shutdown(std::chrono::seconds(5));
    server.reset();
    queue.reset();
  }
  HttpResult Post(const std::string& path, const std::string& body, std::vector<std::string> headers = {}) {
    return Call("POST", base + path, headers, body);
  }
  HttpResult Signed(const std::string& path, const std::string& body = "",
                    std::vector<std::string> headers = {}) {
    headers.push_back(Sig(body));
    return Post(path, body, headers);
  }
  HttpResult Get(const std::string& path, std::vector<std::string> headers = {}) {
    return Call("GET", base + path, headers);
  }

  std::unique_ptr<test::TempDir> dir_;
  std::filesystem::path root;
  GatedExecutor exec;
  FakeProbe probe;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<reconcile::WorkQueue> queue;
  std::unique_ptr<http::DirectoryCatalog> catalog;
  std::unique_ptr<http::Server> server;
  std::string base;
};

inline rapidjson::Document Json(const std::string& s) {
  rapidjson::Document d;
  d.Parse(s.data(), s.size());
  return d;
}

inline std::string Str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsString()) return "<missing>";
  return v[key].GetString();
}

inline std::string QueuedId(const HttpResult& r) {
  auto d = Json(r.body);
  return Str(d, "deployment");
}

}  // namespace podcd::test
