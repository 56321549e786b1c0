#include "worker/protocol.hpp"

#include <catch2/catch.hpp>

#include <mutex>

#include "support/temp_dir.hpp"
#include "util/metrics.hpp"

using namespace podcd;
using namespace podcd::reconcile;

namespace {

class Recorder final : public RunContext {
 public:
  std::string Id() const override { return "d1"; }
  void Log(std::string line) override { log.push_back(std::move(line)); }
  void SetCommit(std::string c) override { commit = std::move(c); }
  void SetStackOutcome(state::StackOutcome o) override { stacks.push_back(std::move(o)); }
  void StackStarted(const std::string& stack) override { started.push_back(stack); }
  bool StopRequested() const override { return false; }
  void HandOver() override { handed_over = true; }

  std::vector<std::string> log;
  std::string commit;
  std::vector<state::StackOutcome> stacks;
  std::vector<std::string> started;
  bool handed_over = false;
};

std::string Config(std::string_view extra, std::string_view state_dir = "/var/lib/a") {
  return "webhook: {secret: 0123456789abcdef0123}\nrepo: {path: /srv/env}\nstate_dir: " +
         std::string(state_dir) + "\n" + std::string(extra);
}

}  // namespace

TEST_CASE("worker request: trigger and configuration snapshot survive the trip") {
  worker::Request r;
  r.id = "20261122T100000Z-0001";
  r.trigger.kind = state::TriggerKind::kRedeployAndUpdate;
  r.trigger.event = "package";
  r.trigger.delivery_id = "abc-\"quoted\"\n";
  r.trigger.stacks = {"web", "db"};
  r.trigger.all_changed = false;
  r.trigger.pull = true;
  r.config = {"/etc/podcd/podcd.yml", "a: 1\n", "a: 2\n# é\n"};
  r.daemon_version = "0.1.0";
  r.secrets = {"registry-pass\"\\word", "token-0123456789"};
  auto back = worker::DecodeRequest(worker::EncodeRequest(r));
  REQUIRE(back);
  CHECK(back->secrets == r.secrets);
  CHECK(back->daemon_version == "0.1.0");
  CHECK(back->id == r.id);
  CHECK(back->trigger.kind == r.trigger.kind);
  CHECK(back->trigger.event == r.trigger.event);
  CHECK(back->trigger.delivery_id == r.trigger.delivery_id);
  CHECK(back->trigger.stacks == r.trigger.stacks);
  CHECK(back->trigger.pull);
  CHECK_FALSE(back->trigger.all_changed);
  CHECK(back->config.file == r.config.file);
  CHECK(back->config.boot_text == r.config.boot_text);
  CHECK(back->config.current_text == r.config.current_text);
  CHECK_FALSE(back->trigger.force);
  CHECK(back->trigger.actor.empty());

  // What the actions add: a forced recreate names its actor; a sync is a kind of its own.
  r.trigger = {};
  r.trigger.kind = state::TriggerKind::kDeploy;
  r.trigger.stacks = {"web"};
  r.trigger.force = true;
  r.trigger.actor = "token:t1:alice";
  auto forced = worker::DecodeRequest(worker::EncodeRequest(r));
  REQUIRE(forced);
  CHECK(forced->trigger.force);
  CHECK(forced->trigger.actor == "token:t1:alice");
  CHECK(forced->trigger.SameWork(r.trigger));
  r.trigger = {};
  r.trigger.kind = state::TriggerKind::kSync;
  r.trigger.actor = "user:bob";
  auto sync = worker::DecodeRequest(worker::EncodeRequest(r));
  REQUIRE(sync);
  CHECK(sync->trigger.kind == state::TriggerKind::kSync);
  CHECK(sync->trigger.KindWord() == "sync");
  CHECK(sync->trigger.actor == "user:bob");

  // A job that is no deployment (`__stacks`) has no id and no trigger.
  auto bare = worker::DecodeRequest(worker::EncodeRequest({{}, {}, r.config, {}, {}}));
  REQUIRE(bare);
  CHECK(bare->id.empty());
  CHECK(bare->config.current_text == r.config.current_text);

  CHECK_FALSE(worker::DecodeRequest("not json"));
  // A request that does not parse is not quoted back: it holds the secrets.
  auto garbled = worker::DecodeRequest("{\"secrets\":[\"canary-in-request\"]");
  REQUIRE_FALSE(garbled);
  CHECK(garbled.error().What().find("canary") == std::string::npos);
  CHECK_FALSE(worker::DecodeRequest("[1]"));
}

TEST_CASE("worker events: each RunContext call, metrics and the result reach the daemon's side") {
  metrics::ResetForTest();
  Recorder ctx;
  auto apply = [&](const std::string& line) {
    auto a = worker::ApplyEvent(line, ctx);
    REQUIRE(a);
    return *a;
  };
  CHECK_FALSE(apply(worker::LogEvent("[web] pulled \"busybox\"\tok")).result.has_value());
  apply(worker::CommitEvent("c0ffee"));
  apply(worker::StackEvent({"web", "updated", "image changed", 1234}));
  apply(worker::MetricEvent(metrics::Kind::kObserve, "podcd_podman_call_seconds", {{"call", "pull"}}, 0.25));
  apply(worker::MetricEvent(metrics::Kind::kSet, "podcd_last_successful_sync_timestamp_seconds", {}, 1.5e9));
  CHECK(ctx.log == std::vector<std::string>{"[web] pulled \"busybox\"\tok"});
  CHECK(ctx.commit == "c0ffee");
  REQUIRE(ctx.stacks.size() == 1);
  CHECK(ctx.stacks[0].name == "web");
  CHECK(ctx.stacks[0].outcome == "updated");
  CHECK(ctx.stacks[0].reason == "image changed");
  CHECK(ctx.stacks[0].duration_ms == 1234);
  apply(worker::StackStartedEvent("db \"x\""));
  CHECK(ctx.started == std::vector<std::string>{"db \"x\""});
  CHECK(ctx.stacks.size() == 1);  // a start is no outcome
  const std::string rendered = metrics::Render();
  CHECK(rendered.find("podcd_podman_call_seconds_count{call=\"pull\"} 1") != std::string::npos);
  CHECK(rendered.find("podcd_last_successful_sync_timestamp_seconds 1500000000") != std::string::npos);
  CHECK_FALSE(ctx.handed_over);
  apply(worker::HandOverEvent());
  CHECK(ctx.handed_over);

  auto ok = apply(worker::ResultEvent({}));
  REQUIRE(ok.result.has_value());
  CHECK(ok.result->has_value());
  auto failed = apply(worker::ResultEvent(Fail(ErrorCode::kNotFound, "no stack named x", "deploy")));
  REQUIRE(failed.result.has_value());
  REQUIRE_FALSE(failed.result->has_value());
  CHECK(failed.result->error().code == ErrorCode::kNotFound);
  CHECK(failed.result->error().What() == "deploy: no stack named x");

  auto data =
      apply(worker::DataEvent(worker::EncodeStacks({{"web", "create", true, "ab12", "c0ffee", "d9"}})));
  REQUIRE(data.data);
  auto stacks = worker::DecodeStacks(*data.data);
  REQUIRE(stacks);
  REQUIRE(stacks->size() == 1);
  CHECK((*stacks)[0].name == "web");
  CHECK((*stacks)[0].action == "create");
  CHECK((*stacks)[0].drifted);
  CHECK((*stacks)[0].last_deployment == "d9");

  // Services, reasons and changes travel; an unknown value stays unknown (no "old" key).
  worker::StackObservation full{"web", "recreate", false, "ab12", "c0ffee", "d9"};
  full.services = {{"app", "web_app_1", "running", "healthy", "nginx:1.25"}};
  full.reasons = {"app: image changed"};
  full.changes = {{"app", "image", "changed", "nginx:1.25", "nginx:1.27"},
                  {"app", "environment.A", "changed", std::nullopt, "x"}};
  full.notes = {"services.app.develop: ignored (compose watch)"};
  auto decoded = worker::DecodeStacks(worker::EncodeStacks({full}));
  REQUIRE(decoded);
  REQUIRE(decoded->size() == 1);
  const auto& d = (*decoded)[0];
  REQUIRE(d.services.size() == 1);
  CHECK(d.services[0].container == "web_app_1");
  CHECK(d.services[0].health == "healthy");
  CHECK(d.services[0].image == "nginx:1.25");
  CHECK(d.reasons == std::vector<std::string>{"app: image changed"});
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].old_value == "nginx:1.25");
  CHECK(d.changes[0].new_value == "nginx:1.27");
  CHECK_FALSE(d.changes[1].old_value.has_value());
  CHECK(d.changes[1].new_value == "x");
  CHECK(d.notes == full.notes);
  // An older worker's answer (no services, reasons or changes) still decodes.
  auto old = worker::DecodeStacks(R"({"stacks":[{"name":"web","action":"unchanged","services":7}]})");
  REQUIRE(old);
  REQUIRE(old->size() == 1);
  CHECK((*old)[0].services.empty());
  CHECK((*old)[0].changes.empty());
  CHECK((*old)[0].notes.empty());

  CHECK_FALSE(worker::ApplyEvent("garbage", ctx));
  CHECK_FALSE(worker::ApplyEvent("{\"what\":1}", ctx));
  CHECK_FALSE(worker::ApplyEvent("{\"metric\":{\"name\":\"x\"}}", ctx));
  // An event this daemon does not know (a worker's newer kind) is an error the launcher logs
  // and reads past; a stack start that names no stack reaches nothing.
  CHECK_FALSE(worker::ApplyEvent("{\"stack_finished\":\"web\"}", ctx));
  CHECK_FALSE(worker::ApplyEvent("{\"stack_started\":7}", ctx));
  CHECK(ctx.started.size() == 1);
  // A kind this daemon does not know is an error, not silently a gauge.
  auto unknown = worker::ApplyEvent("{\"metric\":{\"kind\":\"inc\",\"name\":\"x\",\"value\":1}}", ctx);
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().What().find("unknown kind \"inc\"") != std::string::npos);
  CHECK(metrics::Render().find("\nx ") == std::string::npos);
}

TEST_CASE("worker configuration: the texts the daemon read, restart-only keys from its start") {
  test::TempDir dir;
  auto file = dir.Write("podcd.yml", Config("prune: false\n"));
  config::LoadOptions o;
  o.file = file.string();
  o.env = [](std::string_view) { return std::optional<std::string>(); };
  auto boot = config::Load(o);
  REQUIRE(boot);
  CHECK(boot->file_text == Config("prune: false\n"));
  // A SIGHUP reload: prune changes, state_dir cannot without a restart.
  dir.Write("podcd.yml", Config("prune: true\n", "/elsewhere"));
  auto current = config::Load(o);
  REQUIRE(current);
  // The file changes again, never reloaded: the worker must not see it.
  dir.Write("podcd.yml", "broken: [\n");

  auto snap = worker::SnapshotOf(*boot, *current);
  auto cfg = worker::LoadSnapshot(snap);
  REQUIRE(cfg);
  CHECK(cfg->prune);
  CHECK(cfg->state_dir == "/var/lib/a");
  CHECK(cfg->repo.path == "/srv/env");

  auto same = worker::LoadSnapshot(worker::SnapshotOf(*boot, *boot));
  REQUIRE(same);
  CHECK_FALSE(same->prune);

  auto bad = worker::LoadSnapshot({file.string(), Config("prune: maybe\n"), Config("prune: maybe\n")});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().front().What().find(file.string() + ":4") != std::string::npos);  // file:line
}

TEST_CASE("KeepRestartOnly names each key that a reload cannot change, once") {
  config::Config running;
  running.listen = {"0.0.0.0", 8080};
  running.state_dir = "/a";
  config::Config fresh = running;
  fresh.listen = {"127.0.0.1", 9090};
  fresh.state_dir = "/b";
  fresh.prune = true;
  auto kept = config::KeepRestartOnly(fresh, running);
  CHECK(kept == std::vector<std::string>{"listen", "state_dir"});
  CHECK(fresh.listen.port == 8080);
  CHECK(fresh.state_dir == "/a");
  CHECK(fresh.prune);
}

TEST_CASE("protocol: deeply nested JSON is refused, not a stack overflow") {
  // Found by the worker protocol fuzzer (ASan: stack overflow in RapidJSON's recursive parser):
  // a line of a million '[' now parses iteratively, on the heap, and is refused.
  const std::string deep(1'000'000, '[');
  CHECK_FALSE(worker::DecodeStacks(deep).has_value());
  CHECK_FALSE(worker::DecodeStacks(R"({"stacks":)" + deep).has_value());
}
