// The reconcile end-to-end rig: a real git remote (a bare repo on disk, file://), podcd's
// config and state directory, the real Podman service of scripts/testenv.sh, and helpers that
// run the reconcile engine in-process (with a write-counting Runtime) or the podcd binary.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/plan.hpp"
#include "podman/client.hpp"
#include "reconcile/engine.hpp"
#include "reconcile/podman_runtime.hpp"
#include "reconcile/queue.hpp"
#include "state/store.hpp"
#include "support/podman_env.hpp"
#include "support/run.hpp"
#include "support/skip.hpp"
#include "support/temp_dir.hpp"
#include "worker/sync.hpp"

namespace podcd::test {

// Waits until `ready` holds (or the process ended, or 60 s passed), then `extra`, then
// SIGKILLs it. Returns whether the kill landed on a running process (the crash tests).
inline bool KillWhen(pid_t pid, const std::function<bool()>& ready, std::chrono::milliseconds extra) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int status = 0;
  while (!ready() && std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::this_thread::sleep_for(extra);
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

inline std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

inline std::string Sh(const std::string& cmd) {
  auto r = RunCommand(cmd);
  INFO(cmd << "\n" << r.output);
  REQUIRE(r.exit_code == 0);
  return r.output;
}

// Forwards to a real Runtime and counts the calls that change something on the host.
class CountingRuntime final : public reconcile::Runtime {
 public:
  explicit CountingRuntime(reconcile::Runtime& inner) : inner_(inner) {}
  int writes() const { return writes_; }
  std::vector<std::string> write_log() const {
    std::lock_guard lock(mutex_);
    return log_;
  }

  Expected<std::vector<core::ActualContainer>> ListManaged() override {
    auto listed = inner_.ListManaged();
    if (after_first_list_) std::exchange(after_first_list_, nullptr)();
    return listed;
  }
  // Runs once, right after the first listing: what another process does meanwhile.
  void AfterFirstList(std::function<void()> f) { after_first_list_ = std::move(f); }
  Expected<bool> ImageExists(const std::string& image) override { return inner_.ImageExists(image); }
  Expected<std::string> Pull(const std::string& image, podman::PullPolicy policy) override {
    Write("pull " + image);
    return inner_.Pull(image, policy);
  }
  Expected<std::string> Build(const podman::BuildRequest& request) override {
    Write("build " + (request.tags.empty() ? request.context_dir : request.tags.front()));
    return inner_.Build(request);
  }
  Expected<podman::ImageInfo> InspectImage(const std::string& image) override {
    return inner_.InspectImage(image);
  }
  Expected<std::vector<podman::ImageSummary>> ListImages() override { return inner_.ListImages(); }
  Expected<std::vector<std::string>> RemoveImage(const std::string& id) override {
    Write("remove image " + id);
    return inner_.RemoveImage(id);
  }
  Expected<bool> EnsureNetwork(const podman::NetworkCreate& network) override {
    auto r = inner_.EnsureNetwork(network);
    if (r && *r) Write("network create " + network.name);
    return r;
  }
  Expected<bool> EnsureVolume(const podman::VolumeCreate& volume) override {
    auto r = inner_.EnsureVolume(volume);
    if (r && *r) Write("volume create " + volume.name);
    return r;
  }
  Expected<bool> NetworkExists(const std::string& name) override { return inner_.NetworkExists(name); }
  Expected<podman::NetworkInfo> InspectNetwork(const std::string& name) override {
    return inner_.InspectNetwork(name);
  }
  Expected<std::map<std::string, podman::NetworkEndpoint>> ContainerNetworks(const std::string& id) override {
    return inner_.ContainerNetworks(id);
  }
  Expected<void> Connect(const std::string& network, const podman::NetworkConnect& request) override {
    Write("connect " + request.container + " " + network);
    return inner_.Connect(network, request);
  }
  Expected<std::string> Create(const podman::ContainerSpec& spec) override {
    Write("create " + spec.name);
    return inner_.Create(spec);
  }
  Expected<void> Start(const std::string& id) override {
    Write("start " + id);
    return inner_.Start(id);
  }
  Expected<void> Stop(const std::string& id, std::chrono::seconds grace) override {
    Write("stop " + id);
    return inner_.Stop(id, grace);
  }
  Expected<void> Remove(const std::string& id) override {
    Write("remove " + id);
    return inner_.Remove(id);
  }
  Expected<void> Rename(const std::string& id, const std::string& name) override {
    Write("rename " + id);
    return inner_.Rename(id, name);
  }
  Expected<void> Disconnect(const std::string& id, const std::string& network) override {
    Write("disconnect " + id + " " + network);
    return inner_.Disconnect(id, network);
  }
  Expected<void> SetAliases(const std::string& id, const podman::NetworkAttachment& network) override {
    Write("aliases " + id + " " + network.name);
    return inner_.SetAliases(id, network);
  }
  Expected<reconcile::ContainerStatus> Inspect(const std::string& id) override { return inner_.Inspect(id); }
  Expected<podman::HealthResult> Healthcheck(const std::string& id) override {
    Write("healthcheck " + id);  // runs a process in the container
    return inner_.Healthcheck(id);
  }
  Expected<std::string> Logs(const std::string& id, int tail) override { return inner_.Logs(id, tail); }
  Expected<podman::ContainerSpec> RunConfigOf(const std::string& id) override {
    return inner_.RunConfigOf(id);
  }
  Expected<std::vector<std::string>> StackNetworks(const std::string& stack) override {
    return inner_.StackNetworks(stack);
  }
  Expected<std::vector<std::string>> StackVolumes(const std::string& stack) override {
    return inner_.StackVolumes(stack);
  }
  Expected<void> RemoveNetwork(const std::string& name) override {
    Write("network remove " + name);
    return inner_.RemoveNetwork(name);
  }
  Expected<podman::RuntimesInfo> Runtimes() override { return inner_.Runtimes(); }

 private:
  void Write(std::string what) {
    ++writes_;
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(what));
  }
  reconcile::Runtime& inner_;
  std::function<void()> after_first_list_;
  std::atomic<int> writes_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> log_;
};

struct ReconcileRun {
  state::Deployment deployment;
  int writes = 0;
  std::vector<std::string> write_log;

  [[nodiscard]] bool Succeeded() const { return deployment.state == state::DeploymentState::kSucceeded; }
  [[nodiscard]] const state::StackOutcome* Stack(const std::string& name) const {
    for (const auto& s : deployment.stacks) {
      if (s.name == name) return &s;
    }
    return nullptr;
  }
  [[nodiscard]] std::string Log() const {
    std::string out;
    for (const auto& l : deployment.log) out += l + "\n";
    return out;
  }
  [[nodiscard]] std::string Describe() const {
    std::string out =
        "state " + std::string(state::ToString(deployment.state)) + " reason " + deployment.reason + "\n";
    for (const auto& s : deployment.stacks) out += "  " + s.name + " " + s.outcome + ": " + s.reason + "\n";
    out += Log();
    for (const auto& w : write_log) out += "  write: " + w + "\n";
    return out;
  }
};

struct RigOptions {
  bool prune = false;
  std::string settle = "1s";
  std::string health_timeout = "30s";
};

// One test's world. Every stack it names (Stack()) is removed from the host at the end, by
// label, whatever the test's outcome: containers, then networks and volumes.
class Rig {
 public:
  Rig(const PodmanEnv& env, RigOptions options = {})
      : env_(env), options_(options), client_(TestClientOptions(env)) {
    Sh("git init -q --bare -b main " + Quote(bare_.string()));
    Sh("git init -q -b main " + Quote(dev_.string()));
    Git("remote add origin " + Quote(bare_.string()));
    std::filesystem::create_directories(state_);
    WriteConfig();
    Commit({{"services/README.md", "stacks of the e2e test\n"}}, "first");
  }

  ~Rig() {
    for (const auto& stack : stacks_) {
      const std::string label = std::string(core::kLabelStack) + "=" + stack;
      // Twice: a container whose namespaces another joined goes only after that one.
      for (int pass = 0; pass < 2; ++pass) {
        if (auto cs = client_.ListContainers({label})) {
          for (const auto& c : *cs)
            static_cast<void>(client_.RemoveContainer(c.id, true, std::chrono::seconds(0)));
        }
      }
      if (auto ns = client_.ListNetworks({label})) {
        for (const auto& n : *ns) static_cast<void>(client_.RemoveNetwork(n.name, true));
      }
      if (auto vs = client_.ListVolumes({label})) {
        for (const auto& v : *vs) static_cast<void>(client_.RemoveVolume(v.name, true));
      }
    }
    for (const auto& c : foreign_)
      static_cast<void>(client_.RemoveContainer(c, true, std::chrono::seconds(0)));
  }
  Rig(const Rig&) = delete;
  Rig& operator=(const Rig&) = delete;

  // A stack name no other test or process uses; cleaned up at the end.
  std::string Stack(const std::string& what) {
    static std::atomic<int> counter{0};
    std::string name = "e2e" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" + what;
    stacks_.push_back(name);
    return name;
  }
  // Names `stack` as podcd's own (self.stack) in the configuration.
  void SetSelfStack(const std::string& stack) {
    self_stack_ = stack;
    WriteConfig();
  }
  // The container the in-process engine of Reconcile() believes it runs in (empty: none), as
  // a podcd running in its own self stack's container would.
  void SetOwnContainer(std::string id) { own_container_ = std::move(id); }
  // A container created outside podcd, removed at the end.
  void Foreign(const std::string& name) { foreign_.push_back(name); }

  void SetOptions(RigOptions options) {
    options_ = std::move(options);
    WriteConfig();
  }

  std::string Git(const std::string& args) {
    return Sh("git -C " + Quote(dev_.string()) +
              " -c user.name=podcd-test -c user.email=test@podcd.invalid " + args);
  }

  // Writes the files (an empty body with `remove` deletes), commits, pushes; returns the commit.
  std::string Commit(const std::map<std::string, std::string>& files, const std::string& msg,
                     const std::vector<std::string>& remove = {}) {
    for (const auto& [rel, body] : files) {
      std::filesystem::create_directories((dev_ / rel).parent_path());
      std::ofstream(dev_ / rel, std::ios::binary) << body;
    }
    for (const auto& rel : remove) std::filesystem::remove_all(dev_ / rel);
    Git("add -A");
    Git("commit -q -m " + Quote(msg));
    Git("push -q -f origin main");
    auto head = Git("rev-parse HEAD");
    return head.substr(0, head.find('\n'));
  }

  // One deployment through the engine and the work queue, in-process, counting writes.
  ReconcileRun Reconcile(state::Trigger trigger = {}, std::function<void()> after_first_list = nullptr) {
    if (trigger.kind == state::TriggerKind::kUnknown) trigger.kind = state::TriggerKind::kDeployAllChanged;
    if (trigger.stacks.empty()) trigger.all_changed = true;
    auto loaded = config::Load({.file = config_file_.string(), .text = std::nullopt});
    if (!loaded) {
      std::string errors;
      for (const auto& e : loaded.error()) errors += e.What() + "\n";
      FAIL(errors);
    }
    auto cfg = std::make_shared<const config::Config>(std::move(*loaded));
    auto store = state::Store::Open(cfg->state_dir);
    REQUIRE(store.has_value());
    reconcile::PodmanRuntime podman_runtime(TestClientOptions(env_));
    CountingRuntime runtime(podman_runtime);
    runtime.AfterFirstList(std::move(after_first_list));
    reconcile::Engine::SyncFn sync = [](const config::Config& c) -> Expected<std::string> {
      auto r = worker::SyncInChild(c, PODCD_BINARY);
      if (!r) return std::unexpected(r.error());
      return r->commit;
    };
    reconcile::Engine engine(cfg, sync, runtime, reconcile::RealClock());
    if (!own_container_.empty()) engine.SetOwnContainer(own_container_);
    reconcile::WorkQueue queue(**store, engine, 1);
    queue.Start();
    auto queued = queue.Enqueue(trigger);
    REQUIRE(queued.has_value());
    auto done = queue.Wait(queued->id, std::chrono::minutes(10));
    queue.Stop();
    REQUIRE(done.has_value());
    ReconcileRun run{*done, runtime.writes(), runtime.write_log()};
    return run;
  }

  // Runs the podcd binary with this rig's config.
  RunResult Cli(const std::string& args) {
    return RunCommand(std::string(PODCD_BINARY) + " " + args + " --config " + Quote(config_file_.string()));
  }

  // Starts `podcd deploy` as a child process; returns its pid.
  pid_t SpawnDeploy() { return Spawn({"deploy"}); }
  // Starts `podcd ARGS --config <this rig's>` as a child process, its output appended to the
  // log ReadLog() reads; returns its pid.
  pid_t Spawn(std::vector<std::string> podcd_args) {
    std::vector<std::string> args = {PODCD_BINARY};
    args.insert(args.end(), podcd_args.begin(), podcd_args.end());
    args.insert(args.end(), {"--config", config_file_.string()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string out = (dir_ / "deploy.log").string();
    posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, PODCD_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(rc == 0);
    return pid;
  }

  std::vector<podman::ContainerSummary> Containers(const std::string& stack) {
    auto cs = client_.ListContainers({std::string(core::kLabelStack) + "=" + stack});
    REQUIRE(cs.has_value());
    return *cs;
  }
  // service -> container id (the service's one container; fails on more than one).
  std::map<std::string, std::string> Ids(const std::string& stack) {
    std::map<std::string, std::string> out;
    for (const auto& c : Containers(stack)) {
      const std::string service = c.labels.contains(std::string(core::kLabelService))
                                      ? c.labels.at(std::string(core::kLabelService))
                                      : "";
      INFO("service " << service << " has two containers: " << out[service] << " and " << c.id);
      CHECK(out[service].empty());
      out[service] = c.id;
    }
    return out;
  }
  bool Running(const std::string& id) {
    auto info = client_.InspectContainer(id);
    return info && info->state.running;
  }

  // Runs a command in a container with the podman CLI on the env's store.
  RunResult Exec(const std::string& container, const std::string& command) {
    return RunCommand("podman exec " + Quote(container) + " " + command);
  }

  std::string ReadLog() {
    std::ifstream in(dir_ / "deploy.log");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  podman::Client& client() { return client_; }
  const PodmanEnv& env() const { return env_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  const std::filesystem::path& config_file() const { return config_file_; }
  const std::filesystem::path& state_dir() const { return state_; }

 private:
  void WriteConfig() {
    std::ofstream(config_file_) << "listen: 127.0.0.1:0\n"
                                << "webhook:\n  secret: a-test-secret-of-some-length\n"
                                << "repo:\n  url: file://" << bare_.string() << "\n  branch: main\n"
                                << "podman:\n  socket: " << env_.socket << "\n"
                                << "state_dir: " << state_.string() << "\n"
                                << "prune: " << (options_.prune ? "true" : "false") << "\n"
                                << "health:\n  settle: " << options_.settle
                                << "\n  timeout: " << options_.health_timeout << "\n"
                                << "log:\n  level: warn\n";
    if (!self_stack_.empty())
      std::ofstream(config_file_, std::ios::app) << "self:\n  stack: " << self_stack_ << "\n";
  }

  PodmanEnv env_;
  RigOptions options_;
  std::string self_stack_;  // self.stack; empty: none
  std::string own_container_;
  podman::Client client_;
  TempDir dir_;
  std::filesystem::path bare_ = dir_ / "remote.git";
  std::filesystem::path dev_ = dir_ / "dev";
  std::filesystem::path state_ = dir_ / "state";
  std::filesystem::path config_file_ = dir_ / "podcd.yml";
  std::vector<std::string> stacks_;
  std::vector<std::string> foreign_;
};

// The label value of a container summary, or "".
inline std::string Label(const podman::ContainerSummary& c, std::string_view key) {
  auto it = c.labels.find(std::string(key));
  return it == c.labels.end() ? "" : it->second;
}

}  // namespace podcd::test

#define PODCD_E2E_SETUP()                                  \
  auto maybe_env = ::podcd::test::GetPodmanEnv();          \
  if (!maybe_env) PODCD_SKIP(::podcd::test::kNoPodmanEnv); \
  const ::podcd::test::PodmanEnv& env = *maybe_env
