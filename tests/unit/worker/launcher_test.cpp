// worker::Launcher: the daemon's side of its worker processes, against scripted workers and a
// real `podcd __stacks`.
#include "worker/launcher.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "support/script.hpp"
#include "support/temp_dir.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

using namespace podcd;
using namespace std::chrono_literals;
using podcd::test::Script;
using podcd::worker::Launcher;

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

}  // namespace

TEST_CASE("a worker's events reach the context; its request arrives on stdin") {
  test::TempDir dir;
  // An event this daemon does not know (a kind added later) is logged and read past.
  auto bin = Script(dir,
                    "cat > \"$(dirname \"$0\")/request.json\"\n"
                    "echo '{\"log\":\"hello\"}'\n"
                    "echo '{\"stack_paused\":\"web\"}'\n"
                    "echo '{\"commit\":\"c0ffee\"}'\n"
                    "printf '{\"result\":{\"ok\":true}}'\n");
  Launcher launcher(bin, {"--log-level", "debug"});
  Recorder ctx;
  worker::Request req;
  req.id = "d1";
  req.trigger.kind = state::TriggerKind::kPoll;
  auto r = launcher.Run("__run", req, ctx);
  REQUIRE(r);
  CHECK(ctx.log == std::vector<std::string>{"hello"});
  CHECK(ctx.commit == "c0ffee");
  auto sent = worker::DecodeRequest(*ReadFile(dir / "request.json"));
  REQUIRE(sent);
  CHECK(sent->trigger.KindWord() == "poll");
  CHECK_FALSE(sent->daemon_version.empty());  // the launcher says which podcd-serve sent it
}

// The worker masked its events with its own list and its log lines with the configuration's:
// what only the daemon had registered reached the record unmasked from the worker's side.
TEST_CASE("the daemon's masked secrets go to its worker with the request") {
  test::TempDir dir;
  auto bin = Script(dir, "cat > \"$(dirname \"$0\")/request.json\"\nprintf '{\"result\":{\"ok\":true}}'\n");
  log::ClearSecretsForTest();  // what other tests of this binary registered
  log::AddSecret("daemon-only-secret-0123");
  Launcher launcher(bin, {});
  Recorder ctx;
  REQUIRE(launcher.Run("__run", {}, ctx));
  log::ClearSecretsForTest();
  auto sent = worker::DecodeRequest(*ReadFile(dir / "request.json"));
  REQUIRE(sent);
  CHECK(sent->secrets == std::vector<std::string>{"daemon-only-secret-0123"});
}

TEST_CASE("a worker that ends without a result fails the run, saying how it ended") {
  test::TempDir dir;
  Recorder ctx;
  Launcher exits(Script(dir, "echo '{\"log\":\"half\"}'\nexit 3\n"), {});
  auto r = exits.Run("__run", {}, ctx);
  REQUIRE_FALSE(r);
  CHECK(r.error().What() == "worker process (podcd __run): ended without a result: exit status 3");
  CHECK(ctx.log == std::vector<std::string>{"half"});

  Launcher killed(Script(dir, "kill -9 $$\n"), {});
  auto k = killed.Run("__run", {}, ctx);
  REQUIRE_FALSE(k);
  CHECK(k.error().What().find("killed by signal 9 (SIGKILL)") != std::string::npos);

  Launcher missing((dir / "nothing").string(), {});
  auto m = missing.Run("__run", {}, ctx);
  REQUIRE_FALSE(m);
  CHECK(m.error().What().find("nothing") != std::string::npos);
}

TEST_CASE("a worker that dies before reading its request is an error, not a SIGPIPE for the daemon") {
  test::TempDir dir;
  Launcher launcher(Script(dir, "exit 4\n"), {});
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
  Launcher launcher(bin, {});
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
  Launcher launcher(PODCD_BINARY, {});
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

// What only the daemon knows to mask (a secret registered since its start) is masked in what a
// real worker answers, before the answer is written (the socket's path stands for any text a
// worker may quote).
TEST_CASE("a real worker masks its answer with the daemon's list") {
  test::TempDir dir;
  const std::string secret = "shipped-secret-4711";
  const std::string text =
      "webhook:\n  secret: a-test-secret-of-some-length\nrepo:\n  path: " + (dir / "repo").string() +
      "\nstate_dir: " + (dir / "state").string() +
      "\npodman:\n  socket: " + (dir / (secret + ".sock")).string() + "\n";
  dir.Write("podcd.yml", text);
  std::filesystem::create_directories(dir / "repo/services/web");
  log::AddSecret(secret);
  Launcher launcher(PODCD_BINARY, {});
  Recorder ctx;
  worker::Request req;
  req.config = {(dir / "podcd.yml").string(), text, text};
  auto r = launcher.Run("__stacks", req, ctx);
  log::ClearSecretsForTest();
  REQUIRE_FALSE(r);  // no Podman
  INFO(r.error().What());
  CHECK(r.error().What().find("***.sock") != std::string::npos);
  CHECK(r.error().What().find(secret) == std::string::npos);
}

TEST_CASE("a worker past its time limit is stopped at a safe point, or killed a grace period later") {
  test::TempDir dir;
  worker::Limits limits;
  limits.timeout = 1s;
  CHECK(worker::GraceAfter(1s) == 100ms);
  CHECK(worker::GraceAfter(1h) == 1min);
  {
    // It stops when asked, answering as a stopped worker does: the limit is the reason.
    Launcher launcher(Script(dir,
                             "cat >/dev/null\n"
                             "trap 'echo \"{\\\"result\\\":{\\\"ok\\\":false,\\\"code\\\":5,"
                             "\\\"message\\\":\\\"interrupted\\\"}}\"; exit 1' TERM\n"
                             "echo '{\"log\":\"working\"}'\n"
                             "while :; do sleep 0.05; done\n"),
                      {});
    Recorder ctx;
    const auto start = std::chrono::steady_clock::now();
    auto r = launcher.Run("__run", {}, ctx, nullptr, limits);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kTimeout);
    CHECK(r.error().What() ==
          "worker process (podcd __run): worker exceeded its time limit (1s, worker.timeout); stopped at a "
          "safe "
          "point");
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    CHECK(ctx.log == std::vector<std::string>{"working"});
  }
  {
    // It does not stop (SIGTERM ignored, as a worker stuck in a call would): killed.
    Launcher launcher(Script(dir, "cat >/dev/null\ntrap '' TERM\nwhile :; do sleep 0.05; done\n"), {});
    Recorder ctx;
    const auto start = std::chrono::steady_clock::now();
    auto r = launcher.Run("__stacks", {}, ctx, nullptr, limits);
    REQUIRE_FALSE(r);
    CHECK(
        r.error().What() ==
        "worker process (podcd __stacks): worker exceeded its time limit (1s, worker.timeout); killed after "
        "100ms more without reaching a safe point");
    CHECK(std::chrono::steady_clock::now() - start < 10s);
  }
  {
    // Asked to stop, it still finishes its work within the grace period: that is a success.
    Launcher launcher(Script(dir,
                             "cat >/dev/null\n"
                             "trap 'echo \"{\\\"result\\\":{\\\"ok\\\":true}}\"; exit 0' TERM\n"
                             "while :; do sleep 0.05; done\n"),
                      {});
    Recorder ctx;
    auto r = launcher.Run("__run", {}, ctx, nullptr, limits);
    CHECK(r);
  }
  {
    // Within its limit: its own answer.
    Launcher launcher(Script(dir, "cat >/dev/null\necho '{\"result\":{\"ok\":true}}'\n"), {});
    Recorder ctx;
    CHECK(launcher.Run("__run", {}, ctx, nullptr, limits));
  }
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST_CASE("a real worker past its memory limit fails the job with that reason") {
  // `podcd __stacks` reads its request whole: 200 MB of it cannot fit in 64 MiB.
  test::TempDir dir;
  Launcher launcher(PODCD_BINARY, {});
  worker::Request big;
  big.config.current_text = std::string(200u << 20, '#');
  worker::Limits limits;
  limits.memory_max = std::int64_t{64} << 20;
  Recorder ctx;
  auto r = launcher.Run("__stacks", big, ctx, nullptr, limits);
  REQUIRE_FALSE(r);
  CHECK(r.error().What() ==
        "worker process (podcd __stacks): worker exceeded its memory limit (64MiB, worker.memory_max)");
}
#endif
