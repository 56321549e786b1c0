#include "reconcile/self_update.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>

#include "fake_runtime.hpp"
#include "support/temp_dir.hpp"

using namespace podcd;
using namespace podcd::reconcile;

TEST_CASE("hand-over and result files round-trip; missing is nullopt, malformed is an error") {
  test::TempDir dir;
  auto none = ReadHandOver(dir.path());
  REQUIRE(none);
  CHECK_FALSE(*none);
  HandOver h{"20261122-010203-000001", "podcd", "abc123", "podcd_podcd-updater", "f00d", "web", 42, "podcd"};
  REQUIRE(WriteHandOver(dir.path(), h));
  auto back = ReadHandOver(dir.path());
  REQUIRE(back);
  REQUIRE(*back);
  CHECK((*back)->deployment == h.deployment);
  CHECK((*back)->stack == "podcd");
  CHECK((*back)->commit == "abc123");
  CHECK((*back)->updater == "podcd_podcd-updater");
  CHECK((*back)->container == "f00d");
  CHECK((*back)->earlier_failures == "web");
  CHECK((*back)->started_at_ms == 42);
  CHECK((*back)->service == "podcd");

  HandOverResult r;
  r.deployment = h.deployment;
  r.ok = false;
  r.outcome = "failed";
  r.reason = "podcd: health gate: unhealthy \"x\"";
  r.duration_ms = 1234;
  r.stack_key = "podcd=abc;";
  r.log = {"line one", "line \"two\""};
  REQUIRE(WriteHandOverResult(dir.path(), r));
  auto rb = ReadHandOverResult(dir.path());
  REQUIRE(rb);
  REQUIRE(*rb);
  CHECK_FALSE((*rb)->ok);
  CHECK((*rb)->reason == r.reason);
  CHECK((*rb)->duration_ms == 1234);
  CHECK((*rb)->stack_key == "podcd=abc;");
  CHECK((*rb)->log == r.log);

  ClearHandOver(dir.path());
  CHECK_FALSE(*ReadHandOver(dir.path()));
  CHECK_FALSE(*ReadHandOverResult(dir.path()));

  dir.Write("handover.json", "{not json");
  auto bad = ReadHandOver(dir.path());
  REQUIRE_FALSE(bad);
  CHECK(bad.error().What().find("handover.json") != std::string::npos);
  dir.Write("handover.json", R"({"stack":"podcd"})");
  CHECK_FALSE(ReadHandOver(dir.path()));  // no deployment
}

TEST_CASE("updater runs are counted per deployment, so a resumed updater knows it is one") {
  test::TempDir dir;
  CHECK(UpdaterRuns(dir.path(), "d1") == 0);
  auto first = RecordUpdaterRun(dir.path(), "d1");
  REQUIRE(first);
  CHECK(*first == 0);
  auto second = RecordUpdaterRun(dir.path(), "d1");
  REQUIRE(second);
  CHECK(*second == 1);
  CHECK(UpdaterRuns(dir.path(), "d1") == 2);
  CHECK(UpdaterRuns(dir.path(), "d2") == 0);  // another deployment's count is not this one's
  auto other = RecordUpdaterRun(dir.path(), "d2");
  REQUIRE(other);
  CHECK(*other == 0);
  dir.Write("handover-runs", "d2 x1\n");
  CHECK(UpdaterRuns(dir.path(), "d2") == 0);
  dir.Write("handover-runs", "d2 3\n");
  CHECK(UpdaterRuns(dir.path(), "d2") == 3);
  ClearHandOver(dir.path());
  CHECK(UpdaterRuns(dir.path(), "d2") == 0);
}

TEST_CASE("OwnContainerId reads Podman's .containerenv") {
  test::TempDir dir;
  auto f = dir.Write(
      "containerenv",
      "engine=\"podman-4.3.1\"\nname=\"podcd_podcd_1\"\nid=\"0123abcd\"\nimage=\"x\"\nrootless=0\n");
  CHECK(OwnContainerId(f, dir / "none") == std::optional<std::string>("0123abcd"));
  CHECK_FALSE(OwnContainerId(dir / "missing", dir / "none"));
  // Not privileged: .containerenv is empty, the id is in the path of the hostname mount.
  const std::string id = "21c49d80b7de016b90127a02af6dd3ac50fd576602f5d244fc1482ec6b89f3e5";
  auto empty = dir.Write("empty", "");
  auto mountinfo = dir.Write(
      "mountinfo",
      "1227 1200 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containers/storage/overlay/l/X\n"
      "1240 1227 8:1 /var/lib/containers/storage/overlay-containers/" +
          id + "/userdata/hostname /etc/hostname rw,nosuid - ext4 /dev/sda1 rw\n");
  CHECK(OwnContainerId(empty, mountinfo) == std::optional<std::string>(id));
  CHECK_FALSE(OwnContainerId(empty, dir.Write("host-mountinfo", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n")));
  // The host's table lists every container's shm mount: none of them is this process's.
  CHECK_FALSE(OwnContainerId(empty, dir.Write("host-with-containers",
                                              "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n104 27 0:75 / "
                                              "/var/lib/containers/storage/overlay-containers/" +
                                                  id + "/userdata/shm rw,nosuid - tmpfs shm rw\n")));
  CHECK_FALSE(OwnContainerId(
      empty, dir.Write("short", "1 1 8:1 /x/overlay-containers/abc/userdata/hostname /etc/hostname rw\n")));
}

TEST_CASE("the updater container: the new image with the running podcd's env and mounts, nothing else") {
  podman::ContainerSpec running;  // as Runtime::RunConfigOf reads the old podcd container
  running.name = "podcd_podcd_1";
  running.image = "sha-old";
  running.env = {{"PODCD_STATE_DIR", "/var/lib/podcd"}, {"HOSTNAME", "3216ad8ac9e5"}};
  running.binds = {podman::BindMount{"/run/podman/podman.sock", "/run/podman/podman.sock", {}}};
  running.volumes = {podman::NamedVolume{"podcd_state", "/var/lib/podcd", {}}};
  running.ports = {podman::PortMapping{}};
  running.restart_policy = "unless-stopped";
  running.labels = {{"io.podcd.stack", "podcd"}};
  running.user = "10001:0";
  auto s = UpdaterSpec(running, "localhost/podcd:2", "podcd", "20261122-010203-000001");
  CHECK(s.name == "podcd_podcd-updater");
  CHECK(s.image == "localhost/podcd:2");
  CHECK(s.entrypoint == std::vector<std::string>{"podcd"});
  CHECK(s.command == std::vector<std::string>{"__self-update", "--deployment", "20261122-010203-000001"});
  CHECK(s.env == std::map<std::string, std::string>{{"PODCD_STATE_DIR", "/var/lib/podcd"}});
  REQUIRE(s.binds.size() == 1);
  CHECK(s.binds[0].source == "/run/podman/podman.sock");
  REQUIRE(s.volumes.size() == 1);
  CHECK(s.volumes[0].name == "podcd_state");
  CHECK(s.ports.empty());
  CHECK(s.network_mode == "none");
  // A crashed or OOM-killed updater is started again (a resumed updater puts podcd back);
  // one that wrote its result exits 0 and stays ended.
  CHECK(s.restart_policy == "on-failure");
  CHECK(s.restart_retries == std::optional<unsigned>(kUpdaterRestarts));
  CHECK(s.user == "10001:0");
  CHECK_FALSE(s.labels.contains("io.podcd.stack"));  // never planned or pruned
  CHECK(s.labels.at(std::string(kLabelUpdater)) == "20261122-010203-000001");

  ServiceJob svc;
  svc.name = "podcd";
  PrepareSelfServiceJob(svc);
  CHECK(svc.publishes_host_ports);  // old stops before new starts
  CHECK(svc.has_healthcheck);
  REQUIRE(svc.spec.healthcheck);
  CHECK(svc.spec.healthcheck->test == std::vector<std::string>{"CMD", "podcd", "health"});
  ServiceJob own_check;
  own_check.has_healthcheck = true;
  own_check.spec.healthcheck = podman::HealthConfig{{"CMD", "true"}};
  PrepareSelfServiceJob(own_check);
  CHECK(own_check.spec.healthcheck->test ==
        std::vector<std::string>{"CMD", "true"});  // the compose one stays
}

TEST_CASE("an updater is alive while it runs, and while Podman is about to restart it") {
  ContainerStatus st;
  st.status = "running";
  st.running = true;
  CHECK(UpdaterAlive(st));
  st = {};
  st.status = "created";
  CHECK(UpdaterAlive(st));
  st = {};
  st.status = "exited";
  st.exit_code = 0;  // wrote its result
  CHECK_FALSE(UpdaterAlive(st));
  st.exit_code = 137;  // killed: on-failure starts it again...
  CHECK(UpdaterAlive(st));
  st.restart_count = kUpdaterRestarts;  // ...until the retries are used up
  CHECK_FALSE(UpdaterAlive(st));
  st = {};
  st.status = "stopped";  // `podman stop` or `podman kill`: no restart policy applies
  st.exit_code = 137;
  CHECK_FALSE(UpdaterAlive(st));
}

TEST_CASE("a crashed updater counts as running while Podman restarts it, as ended once it does not") {
  test::FakeRuntime rt;
  const std::string id = rt.Add("podcd_podcd-updater", "localhost/podcd:2", {}, {}, false);
  rt.containers[id].exit_code = 137;

  // `podman kill`: exited 137 and nothing restarts it; ended after a few seconds.
  test::FakeClock clock;
  const auto before = clock.Now();
  CHECK(UpdaterEnded(rt, id, clock));
  CHECK(clock.Now() - before >= std::chrono::seconds(5));

  // A crash: Podman starts it again within the wait.
  struct Restarting final : Clock {
    test::FakeRuntime& rt;
    std::string id;
    std::int64_t ms = 0;
    Restarting(test::FakeRuntime& r, std::string i) : rt(r), id(std::move(i)) {}
    std::chrono::steady_clock::time_point Now() override {
      return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms));
    }
    void Sleep(std::chrono::milliseconds d) override {
      ms += d.count();
      if (ms >= 750) {
        rt.containers[id].status = "running";
        rt.containers[id].restart_count = 1;
      }
    }
  } restarting(rt, id);
  CHECK_FALSE(UpdaterEnded(rt, id, restarting));

  // Running, done (exit 0), out of restarts, or gone: no waiting.
  test::FakeClock still;
  const auto t0 = still.Now();
  CHECK_FALSE(UpdaterEnded(rt, id, still));
  rt.containers[id].status = "exited";
  rt.containers[id].exit_code = 0;
  CHECK(UpdaterEnded(rt, id, still));
  rt.containers[id].exit_code = 1;
  rt.containers[id].restart_count = kUpdaterRestarts;
  CHECK(UpdaterEnded(rt, id, still));
  CHECK(UpdaterEnded(rt, "no-such-container", still));
  CHECK(still.Now() == t0);
}

TEST_CASE("an updater that ended without a result and was not restarted is started once more") {
  test::TempDir dir;
  test::FakeRuntime rt;
  const std::string id = rt.Add("podcd_podcd-updater", "localhost/podcd:2", {}, {}, false);
  rt.containers[id].status = "exited";
  rt.containers[id].exit_code = 137;  // killed with its conmon: Podman never restarts it
  HandOver h{"d1", "podcd", "abc", id, "old", "", 0, "podcd"};
  REQUIRE(RecordUpdaterRun(dir.path(), "d1"));
  std::atomic<bool> stopping{false};

  // The resumed updater writes its result once it runs.
  struct ResultOnStart final : Clock {
    test::FakeRuntime& rt;
    std::string id;
    std::filesystem::path dir;
    std::int64_t ms = 0;
    ResultOnStart(test::FakeRuntime& r, std::string i, std::filesystem::path d)
        : rt(r), id(std::move(i)), dir(std::move(d)) {}
    std::chrono::steady_clock::time_point Now() override {
      return std::chrono::steady_clock::time_point(std::chrono::milliseconds(ms));
    }
    void Sleep(std::chrono::milliseconds d) override {
      ms += d.count();
      if (rt.containers.at(id).status == "running" && !*ReadHandOverResult(dir)) {
        HandOverResult r;
        r.deployment = "d1";
        r.outcome = "rolled-back";
        REQUIRE(WriteHandOverResult(dir, r));
        rt.containers.at(id).status = "exited";
        rt.containers.at(id).exit_code = 0;
      }
    }
  } clock(rt, id, dir.path());
  auto waited = AwaitUpdaterResult(rt, h, dir.path(), clock, std::chrono::minutes(5), stopping);
  REQUIRE(waited.result);
  CHECK(waited.result->outcome == "rolled-back");
  REQUIRE(waited.notes.size() == 1);
  CHECK(waited.notes[0].find("podcd started it again") != std::string::npos);
  CHECK(std::count(rt.calls.begin(), rt.calls.end(), "start podcd_podcd-updater") == 1);

  // A podcd starts it at most once; this wait (the runs allow one more) starts it, and as it
  // then runs on without a result, waits until the timeout.
  ClearHandOver(dir.path());
  REQUIRE(RecordUpdaterRun(dir.path(), "d1"));
  rt.containers[id].exit_code = 137;
  test::FakeClock plain;
  rt.calls.clear();
  auto again = AwaitUpdaterResult(rt, h, dir.path(), plain, std::chrono::minutes(5), stopping);
  CHECK_FALSE(again.result);
  CHECK(std::count(rt.calls.begin(), rt.calls.end(), "start podcd_podcd-updater") == 1);

  // Nor when Podman already restarted it as often as its policy allows.
  rt.calls.clear();
  rt.containers[id].status = "exited";
  rt.containers[id].restart_count = kUpdaterRestarts;
  for (unsigned i = 0; i < kUpdaterRestarts; ++i) REQUIRE(RecordUpdaterRun(dir.path(), "d1"));
  REQUIRE(UpdaterRuns(dir.path(), "d1") > static_cast<int>(kUpdaterRestarts));
  auto spent = AwaitUpdaterResult(rt, h, dir.path(), plain, std::chrono::minutes(5), stopping);
  CHECK_FALSE(spent.result);
  CHECK(std::count(rt.calls.begin(), rt.calls.end(), "start podcd_podcd-updater") == 0);
}

TEST_CASE("a result already written is taken without touching the updater") {
  test::TempDir dir;
  test::FakeRuntime rt;
  const std::string id = rt.Add("podcd_podcd-updater", "localhost/podcd:2", {}, {}, false);
  rt.containers[id].status = "exited";
  HandOver h{"d1", "podcd", "abc", id, "old", "", 0, "podcd"};
  HandOverResult r;
  r.deployment = "d1";
  r.ok = true;
  r.outcome = "updated";
  REQUIRE(WriteHandOverResult(dir.path(), r));
  std::atomic<bool> stopping{false};
  test::FakeClock clock;
  auto waited = AwaitUpdaterResult(rt, h, dir.path(), clock, std::chrono::minutes(5), stopping);
  REQUIRE(waited.result);
  CHECK(waited.result->ok);
  CHECK(waited.notes.empty());
  CHECK(std::count(rt.calls.begin(), rt.calls.end(), "start podcd_podcd-updater") == 0);
}
