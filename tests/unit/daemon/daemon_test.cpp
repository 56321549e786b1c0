#include "daemon/daemon_parts.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <thread>

#include "support/script.hpp"
#include "support/temp_dir.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace podcd::daemon;
using namespace std::chrono_literals;
using podcd::test::Script;
using podcd::worker::Launcher;

namespace {

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
  Launcher launcher;
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
