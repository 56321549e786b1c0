#include "reconcile/self_update.hpp"

#include <utility>

#include "util/strings.hpp"

namespace podcd::reconcile {

std::optional<std::string> OwnContainerId(const std::filesystem::path& containerenv,
                                          const std::filesystem::path& mountinfo) {
  if (auto env = ReadFile(containerenv, 64u << 10)) {
    for (std::string_view line : SplitLines(*env)) {
      line = Trim(line);
      if (!line.starts_with("id=")) continue;
      auto value = line.substr(3);
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
        value = value.substr(1, value.size() - 2);
      if (!value.empty()) return std::string(value);
    }
  }
  auto mounts = ReadFile(mountinfo, 4u << 20);
  if (!mounts) return std::nullopt;
  // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT_POINT ...". Only our own /etc/hostname counts: the
  // host's table lists every container's .../userdata/shm too.
  constexpr std::string_view kTail = "/userdata/hostname";
  for (std::string_view line : SplitLines(*mounts)) {
    std::string_view field[5];
    for (auto& f : field) {
      const auto sp = line.find(' ');
      f = line.substr(0, sp);
      line = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
    }
    const std::string_view root = field[3];
    if (field[4] != "/etc/hostname" || !root.ends_with(kTail)) continue;
    const auto dir = root.rfind("-containers/");
    if (dir == std::string_view::npos) continue;
    const auto id = root.substr(dir + 12, root.size() - (dir + 12) - kTail.size());
    if (id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos)
      return std::string(id);
  }
  return std::nullopt;
}

const ServiceJob* ServiceOfContainer(const StackJob& job, std::string_view container_id) {
  if (container_id.empty()) return nullptr;
  for (const auto& svc : job.services) {
    for (const auto& id : svc.old_containers) {
      if (!id.empty() && (id.starts_with(container_id) || container_id.starts_with(id))) return &svc;
    }
  }
  return nullptr;
}

ServiceJob* ServiceOfContainer(StackJob& job, std::string_view container_id) {
  return const_cast<ServiceJob*>(ServiceOfContainer(std::as_const(job), container_id));
}

namespace {
bool Started(const ContainerStatus& status) {
  return status.running || status.status == "created" || status.status == "configured";
}
bool RestartPending(const ContainerStatus& status) {
  return status.status == "exited" && status.exit_code != 0 &&
         status.restart_count < static_cast<std::int64_t>(kUpdaterRestarts);
}
}  // namespace

bool UpdaterAlive(const ContainerStatus& status) { return Started(status) || RestartPending(status); }

bool UpdaterEnded(Runtime& runtime, const std::string& updater, Clock& clock) {
  constexpr auto kRestartGrace = std::chrono::seconds(5);
  auto st = runtime.Inspect(updater);
  if (!st || !UpdaterAlive(*st)) return true;
  if (Started(*st)) return false;
  const std::int64_t restarts = st->restart_count;
  const auto until = clock.Now() + kRestartGrace;
  while (clock.Now() < until) {
    clock.Sleep(std::chrono::milliseconds(250));
    st = runtime.Inspect(updater);
    if (!st) return true;
    if (Started(*st) || st->restart_count != restarts) return false;
  }
  return true;  // stopped or killed through Podman: no restart comes
}

UpdaterWait AwaitUpdaterResult(Runtime& runtime, const HandOver& h, const std::filesystem::path& state_dir,
                               Clock& clock, std::chrono::milliseconds timeout,
                               const std::atomic<bool>& stopping) {
  UpdaterWait out;
  auto read_result = [&]() -> std::optional<HandOverResult> {
    auto r = ReadHandOverResult(state_dir);
    if (r && *r && (*r)->deployment == h.deployment) return **r;
    return std::nullopt;
  };
  bool started_again = false;
  const auto deadline = clock.Now() + timeout;
  while (!stopping && clock.Now() < deadline) {
    out.result = read_result();
    if (out.result) break;
    if (UpdaterEnded(runtime, h.updater, clock)) {
      out.result = read_result();  // it may have written it just before it ended
      if (out.result) break;
      if (started_again || UpdaterRuns(state_dir, h.deployment) > static_cast<int>(kUpdaterRestarts)) break;
      started_again = true;
      auto r = runtime.Start(h.updater);
      out.notes.push_back(
          "the updater ended without a result and Podman did not restart it: " +
          (r ? std::string("podcd started it again") : "starting it again failed: " + r.error().What()));
      if (!r) break;
    }
    clock.Sleep(std::chrono::milliseconds(250));
  }
  return out;
}

std::vector<std::string> UpdaterLog(Runtime& runtime, const std::string& updater, int tail) {
  std::vector<std::string> out;
  auto logs = runtime.Logs(updater, tail);
  if (!logs) return out;
  for (auto line : SplitLines(*logs)) {
    if (!line.empty()) out.push_back("[updater] " + std::string(line));
  }
  return out;
}

std::chrono::milliseconds HandOverTimeout(const config::Config& config) {
  return config.health.timeout + std::chrono::minutes(5);
}

podman::ContainerSpec UpdaterSpec(const podman::ContainerSpec& running, const std::string& image,
                                  const std::string& stack, const std::string& deployment) {
  podman::ContainerSpec s;
  s.name = stack + "_podcd-updater";
  s.image = image;
  s.entrypoint = {"podcd"};
  s.command = {"__self-update", "--deployment", deployment};
  s.env = running.env;
  s.env.erase("HOSTNAME");  // the old container's, not this one's
  s.labels = {{std::string(kLabelUpdater), deployment}};
  s.binds = running.binds;
  s.volumes = running.volumes;
  s.user = running.user;
  s.network_mode = "none";  // it talks to Podman over the mounted unix socket only
  s.init = true;
  s.restart_policy = "on-failure";
  s.restart_retries = kUpdaterRestarts;
  // What lets the podcd container reach the socket lets the updater reach it too.
  s.privileged = running.privileged;
  s.cap_add = running.cap_add;
  return s;
}

void PrepareSelfServiceJob(ServiceJob& service) {
  // Overlap is impossible: the new podcd would wait for the old one's state directory lock.
  service.publishes_host_ports = true;
  if (!service.has_healthcheck) {
    podman::HealthConfig h;
    h.test = {"CMD", "podcd", "health"};
    h.interval = std::chrono::seconds(2);
    h.timeout = std::chrono::seconds(5);
    h.retries = 3;
    service.spec.healthcheck = h;
    service.has_healthcheck = true;
    service.health_interval = std::chrono::seconds(2);
  }
}

}  // namespace podcd::reconcile
