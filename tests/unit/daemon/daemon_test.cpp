#include "daemon/daemon_parts.hpp"
#include "daemon/worker_process.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "support/temp_dir.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::daemon;
using namespace std::chrono_literals;
namespace worker = podcd::reconcile::worker;

namespace {

class Recorder final : public reconcile::RunContext {
 public:
  std::string Id() const override { return "d1"; }
  void Log(std::string line) override {
    std::lock_guard lock(m);
    log.push_back(std::move(line));
  }
  void SetCommit(std::string c) override { commit = std::move(c); }
  void SetStackOutcome(state::StackOutcome) override {}
  bool StopRequested() const override { return stop.load(); }
  void HandOver() override {}
  std::mutex m;
  std::vector<std::string> log;
  std::string commit;
  std::atomic<bool> stop{false};
};

// A stand-in for `podcd`: a shell script that plays the worker's side of the protocol.
std::string Script(const test::TempDir& dir, const std::string& body) {
  auto p = dir.Write("worker.sh", "#!/bin/sh\n" + body);
  ::chmod(p.c_str(), 0755);
  return p.string();
}

// A unix socket that answers every connection with `answer` (nothing at all when empty).
class FakeSocket {
 public:
  FakeSocket(std::string path, std::string answer) : path_(std::move(path)), answer_(std::move(answer)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd_, 4) == 0);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buf[1024];
      (void)::recv(c, buf, sizeof buf, 0);
      request_ = buf;
      if (!answer_.empty()) (void)::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
      std::this_thread::sleep_for(answer_.empty() ? 600ms : 0ms);
      ::close(c);
    });
  }
  ~FakeSocket() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string request_;

 private:
  std::string path_;
  std::string answer_;
  int fd_ = -1;
  std::thread thread_;
};

}  // namespace

TEST_CASE("a worker's events reach the context; its request arrives on stdin") {
  test::TempDir dir;
  auto bin = Script(dir,
                    "cat > \"$(dirname \"$0\")/request.json\"\n"
                    "echo '{\"log\":\"hello\"}'\n"
                    "echo '{\"commit\":\"c0ffee\"}'\n"
                    "printf '{\"result\":{\"ok\":true}}'\n");
  WorkerLauncher launcher(bin, {"--log-level", "debug"});
  Recorder ctx;
  worker::Request req;
  req.id = "d1";
  req.trigger.kind = "poll";
  auto r = launcher.Run("__run", req, ctx);
  REQUIRE(r);
  CHECK(ctx.log == std::vector<std::string>{"hello"});
  CHECK(ctx.commit == "c0ffee");
  auto sent = worker::DecodeRequest(*ReadFile(dir / "request.json"));
  REQUIRE(sent);
  CHECK(sent->trigger.kind == "poll");
  CHECK_FALSE(sent->daemon_version.empty());  // the launcher says which podcd-serve sent it
}

TEST_CASE("a worker that ends without a result fails the run, saying how it ended") {
  test::TempDir dir;
  Recorder ctx;
  WorkerLauncher exits(Script(dir, "echo '{\"log\":\"half\"}'\nexit 3\n"), {});
  auto r = exits.Run("__run", {}, ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().What() == "worker process (podcd __run): ended without a result: exit status 3");
  CHECK(ctx.log == std::vector<std::string>{"half"});

  WorkerLauncher killed(Script(dir, "kill -9 $$\n"), {});
  auto k = killed.Run("__run", {}, ctx);
  REQUIRE_FALSE(k);
  CHECK(k.error().What().find("killed by signal 9 (SIGKILL)") != std::string::npos);

  WorkerLauncher missing((dir / "nothing").string(), {});
  auto m = missing.Run("__run", {}, ctx);
  REQUIRE_FALSE(m);
  CHECK(m.error().What().find("nothing") != std::string::npos);
}

TEST_CASE("a worker that dies before reading its request is an error, not a SIGPIPE for the daemon") {
  test::TempDir dir;
  WorkerLauncher launcher(Script(dir, "exit 4\n"), {});
  Recorder ctx;
  worker::Request big;
  big.config.current_text = std::string(8u << 20, '#');  // far more than a socket buffer holds
  auto r = launcher.Run("__run", big, ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().What() == "worker process (podcd __run): ended without a result: exit status 4");
}

TEST_CASE("a stop request reaches the worker as SIGTERM, once") {
  test::TempDir dir;
  auto bin = Script(
      dir,
      "cat >/dev/null\n"
      "trap 'echo \"{\\\"log\\\":\\\"got TERM\\\"}\"; "
      "echo \"{\\\"result\\\":{\\\"ok\\\":false,\\\"code\\\":5,\\\"message\\\":\\\"interrupted\\\"}}\"; "
      "exit 1' TERM\n"
      "echo '{\"log\":\"working\"}'\n"
      "i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done\n"
      "echo '{\"result\":{\"ok\":true}}'\n");
  WorkerLauncher launcher(bin, {});
  Recorder ctx;
  std::thread stopper([&] {
    std::this_thread::sleep_for(300ms);
    ctx.stop = true;
  });
  const auto start = std::chrono::steady_clock::now();
  auto r = launcher.Run("__run", {}, ctx);
  stopper.join();
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "interrupted");
  CHECK(ctx.log == std::vector<std::string>{"working", "got TERM"});
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("a stop sent as soon as the real worker starts is a stop request, not a kill") {
  // The daemon stops a worker the moment it is asked to stop, which can be before the worker
  // has installed its SIGTERM handler (it is still loading libcurl and libgit2). The worker
  // starts with SIGTERM blocked, so it still ends with a result of its own.
  test::TempDir dir;
  const std::string text =
      "webhook:\n  secret: a-test-secret-of-some-length\nrepo:\n  path: " + (dir / "repo").string() +
      "\nstate_dir: " + (dir / "state").string() +
      "\npodman:\n  socket: " + (dir / "no-podman.sock").string() + "\n";
  dir.Write("podcd.yml", text);
  std::filesystem::create_directories(dir / "repo/services/web");
  WorkerLauncher launcher(PODCD_BINARY, {});
  for (int i = 0; i < 5; ++i) {
    Recorder ctx;
    ctx.stop = true;  // sent right after the spawn
    worker::Request req;
    req.config = {(dir / "podcd.yml").string(), text, text};
    auto r = launcher.Run("__stacks", req, ctx);
    REQUIRE_FALSE(r);  // no Podman
    INFO(r.error().What());
    CHECK(r.error().What().find("ended without a result") == std::string::npos);
    CHECK(r.error().What().find("no-podman.sock") != std::string::npos);
  }
}

TEST_CASE("PingPodman: 200 is healthy; anything else names what happened") {
  test::TempDir dir;
  const std::string path = (dir / "podman.sock").string();
  {
    FakeSocket s(path, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK");
    CHECK(PingPodman(path, 2s));
  }
  ::unlink(path.c_str());
  {
    FakeSocket s(path, "HTTP/1.1 500 Internal Server Error\r\n\r\n");
    auto r = PingPodman(path, 2s);
    REQUIRE_FALSE(r);
    CHECK(r.error().What() == "answered \"HTTP/1.1 500 Internal Server Error\"");
  }
  ::unlink(path.c_str());
  {
    FakeSocket s(path, "");
    auto r = PingPodman(path, 200ms);
    REQUIRE_FALSE(r);
    CHECK(r.error().What() == "no answer within 200ms");
  }
  ::unlink(path.c_str());
  auto gone = PingPodman(path, 1s);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().What().find("cannot connect: No such file or directory") != std::string::npos);
}

TEST_CASE("GET /stacks state: history first, then the plan") {
  worker::StackObservation s{"web", "unchanged", false, "", "", ""};
  CHECK(StackState(s, "") == "in-sync");
  CHECK(StackState(s, "failed") == "in-sync");  // failed before, in sync now
  s.action = "recreate";
  CHECK(StackState(s, "") == "changed");
  CHECK(StackState(s, "failed") == "failed");
  s.drifted = true;
  CHECK(StackState(s, "updated") == "drifted");
  s.action = "refused";
  CHECK(StackState(s, "") == "refused");
  s.action = "remove";
  CHECK(StackState(s, "") == "removed");
}

namespace {
// A WorkerCatalog over a scripted `__stacks` worker; each run appends a line to runs.txt.
struct CatalogRig {
  explicit CatalogRig(const std::string& body)
      : launcher(Script(dir, "echo run >> \"$(dirname \"$0\")/runs.txt\"\n" + body), {}),
        holder(std::make_shared<const config::Config>()),
        directory(dir.path().string()) {
    auto s = state::Store::Open(dir.path() / "state");
    REQUIRE(s);
    store = std::move(*s);
    catalog = std::make_unique<WorkerCatalog>(launcher, holder, *store, directory);
  }
  int Runs() {
    auto text = ReadFile(dir.path() / "runs.txt");
    return text ? static_cast<int>(std::count(text->begin(), text->end(), '\n')) : 0;
  }
  test::TempDir dir;
  WorkerLauncher launcher;
  ConfigHolder holder;
  http::DirectoryCatalog directory;
  std::unique_ptr<state::Store> store;
  std::unique_ptr<WorkerCatalog> catalog;
};

std::string StacksWorker(double seconds) {
  const std::string data =
      worker::DataEvent(worker::EncodeStacks({{"web", "unchanged", false, "f1", "c1", "d1"}}));
  return "sleep " + std::to_string(seconds) + "\necho '" + data + "'\nprintf '{\"result\":{\"ok\":true}}'\n";
}
}  // namespace

TEST_CASE("GET /stacks: requests that wait while a worker runs share the next one") {
  CatalogRig rig(StacksWorker(1.0));
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto r = rig.catalog->List();
      if (r && r->size() == 1 && (*r)[0].name == "web" && (*r)[0].state == "in-sync") ++answered;
    });
    if (i == 0) std::this_thread::sleep_for(100ms);  // the others arrive while the first runs
  }
  for (auto& t : threads) t.join();
  CHECK(answered == 8);
  CHECK(rig.Runs() == 2);  // one per request before the change: 8
  // A request after those is answered afresh, and the gauge reuses a young answer.
  REQUIRE(rig.catalog->List());
  CHECK(rig.Runs() == 3);
  REQUIRE(rig.catalog->Recent(30s));
  CHECK(rig.Runs() == 3);
}

TEST_CASE("GET /stacks: a worker that fails is an error naming why, not an empty list") {
  CatalogRig rig(
      "echo '{\"result\":{\"ok\":false,\"code\":5,\"message\":\"cannot connect to podman.sock\","
      "\"context\":\"__stacks\"}}'\n");
  auto r = rig.catalog->List();
  REQUIRE_FALSE(r);
  CHECK(r.error().What() == "__stacks: cannot connect to podman.sock");
}
