// Self-update: podcd replacing its own container. The running podcd never stops itself: at the
// end of a deployment it starts a one-shot updater container from its new image
// (`podcd __self-update`), which replaces the old podcd container like any service (stop the
// old one first, start the new one, gate on /health, roll back on failure) and writes the
// outcome to the state directory. The podcd that runs afterwards (the new one, or the old one
// after a rollback) closes the deployment record with it. docs/operations.md tells the story.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "reconcile/apply.hpp"
#include "reconcile/handover.hpp"
#include "reconcile/runtime.hpp"
#include "util/error.hpp"

namespace podcd::reconcile {

// The id of the container this process runs in; nullopt outside a Podman container. Podman
// writes `id="..."` into /run/.containerenv only for privileged containers, so the usual source
// is the mount of /etc/hostname (or resolv.conf, hosts, .containerenv) in mountinfo, whose
// path is <storage>/<driver>-containers/<id>/userdata/...
std::optional<std::string> OwnContainerId(const std::filesystem::path& containerenv = "/run/.containerenv",
                                          const std::filesystem::path& mountinfo = "/proc/self/mountinfo");

// The service of `job` that `container_id` is one of the containers of (ids compare by prefix:
// a short id on either side matches its full form), or nullptr.
const ServiceJob* ServiceOfContainer(const StackJob& job, std::string_view container_id);
ServiceJob* ServiceOfContainer(StackJob& job, std::string_view container_id);

// How often Podman starts a crashed updater again (restart policy on-failure; a resumed
// updater puts podcd back, see worker/self_update_job.cpp).
inline constexpr unsigned kUpdaterRestarts = 2;
// An updater container that is running or about to (created), or that ended with a failure its
// restart policy answers (a crash, an OOM kill). `podman kill` looks the same but is not
// restarted: UpdaterEnded tells the two apart by waiting a moment.
bool UpdaterAlive(const ContainerStatus& status);
// True once the updater has ended for good (or is gone): not alive, or "alive" only by a
// pending restart that did not happen within a few seconds.
bool UpdaterEnded(Runtime& runtime, const std::string& updater, Clock& clock);
// What the podcd that runs after a hand-over learnt while it waited for the updater.
struct UpdaterWait {
  std::optional<HandOverResult> result;  // nullopt: none came (ended without one, timed out, stopping)
  std::vector<std::string> notes;        // what this podcd did meanwhile, for the record
};
// Waits up to `timeout` for the result of `h`'s updater. An updater that ended without one and
// that Podman did not restart (its conmon died with it, or the restart failed) is started once
// more: resumed, it puts the old podcd back, even when that means stopping the caller.
UpdaterWait AwaitUpdaterResult(Runtime& runtime, const HandOver& h, const std::filesystem::path& state_dir,
                               Clock& clock, std::chrono::milliseconds timeout,
                               const std::atomic<bool>& stopping);
// The updater's last `tail` log lines, each prefixed "[updater] " for the deployment record.
std::vector<std::string> UpdaterLog(Runtime& runtime, const std::string& updater, int tail);
// How long anyone waits for an updater: its health gate's limit plus 5 minutes.
std::chrono::milliseconds HandOverTimeout(const config::Config& config);

// Label on the updater container (value: the deployment id); it carries no io.podcd.stack
// label, so plans and prunes never see it.
inline constexpr std::string_view kLabelUpdater = "io.podcd.updater";

// The updater container: the new podcd image (`image`), run with the environment, user, mounts
// and privileges of the running podcd container (`running`, from Runtime::RunConfigOf), so that
// it reads the configuration and state directory known to work even when the new stack's are
// broken; no ports, no network, no healthcheck; restarted (kUpdaterRestarts times) only when
// it crashes.
podman::ContainerSpec UpdaterSpec(const podman::ContainerSpec& running, const std::string& image,
                                  const std::string& stack, const std::string& deployment);

// How the updater replaces podcd's container: the old one stops before the new one starts
// (two podcd on one state directory cannot both hold its lock), and the health gate asks the
// new one's /health through `podcd health` when the compose file sets no healthcheck.
void PrepareSelfServiceJob(ServiceJob& service);

}  // namespace podcd::reconcile
