// reconcile::Runtime: the container operations the applier needs. PodmanRuntime implements it
// over the libpod client; unit tests script it (tests/unit/reconcile/fake_runtime.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/plan.hpp"
#include "podman/client.hpp"
#include "podman/spec.hpp"
#include "util/error.hpp"

namespace podcd::reconcile {

struct ContainerStatus {
  std::string status;  // running, exited, created, ...
  bool running = false;
  std::int64_t exit_code = 0;
  std::int64_t restart_count = 0;
  std::string image_id;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  // Every container carrying podcd's stack label, as Plan() reads them.
  virtual Expected<std::vector<core::ActualContainer>> ListManaged() = 0;
  virtual Expected<bool> ImageExists(const std::string& image) = 0;
  // Returns the id of the image now stored under `image`.
  virtual Expected<std::string> Pull(const std::string& image, podman::PullPolicy policy) = 0;
  // Builds and tags the image; returns its id.
  virtual Expected<std::string> Build(const podman::BuildRequest& request) = 0;
  // A local image's id and labels (kNotFound when it is not there).
  virtual Expected<podman::ImageInfo> InspectImage(const std::string& image) = 0;
  // Every image of the store, with what each holds alone (ImageSummary::unique_size).
  virtual Expected<std::vector<podman::ImageSummary>> ListImages() = 0;
  // Removes an image by id, never forced; returns the ids Podman deleted.
  virtual Expected<std::vector<std::string>> RemoveImage(const std::string& id) = 0;
  // Create when missing; true when it was created now.
  virtual Expected<bool> EnsureNetwork(const podman::NetworkCreate& network) = 0;
  virtual Expected<bool> EnsureVolume(const podman::VolumeCreate& volume) = 0;
  virtual Expected<bool> NetworkExists(const std::string& name) = 0;
  // A network as Podman has it; kNotFound when it is not there.
  virtual Expected<podman::NetworkInfo> InspectNetwork(const std::string& name) = 0;
  // The networks a container is on, with its address, MAC and aliases on each.
  virtual Expected<std::map<std::string, podman::NetworkEndpoint>> ContainerNetworks(
      const std::string& id) = 0;
  // Puts a container on a network (with the address, MAC and aliases `request` gives).
  virtual Expected<void> Connect(const std::string& network, const podman::NetworkConnect& request) = 0;
  virtual Expected<std::string> Create(const podman::ContainerSpec& spec) = 0;
  virtual Expected<void> Start(const std::string& id) = 0;
  virtual Expected<void> Stop(const std::string& id, std::chrono::seconds grace) = 0;
  virtual Expected<void> Remove(const std::string& id) = 0;
  virtual Expected<void> Rename(const std::string& id, const std::string& name) = 0;
  // Takes a container off a network (its DNS names there go with it).
  virtual Expected<void> Disconnect(const std::string& id, const std::string& network) = 0;
  // Gives a container that is on `network.name` the DNS aliases `network.aliases` there, keeping
  // its address and MAC (Podman 4 can only take it off the network and put it back).
  virtual Expected<void> SetAliases(const std::string& id, const podman::NetworkAttachment& network) = 0;
  virtual Expected<ContainerStatus> Inspect(const std::string& id) = 0;
  virtual Expected<podman::HealthResult> Healthcheck(const std::string& id) = 0;
  virtual Expected<std::string> Logs(const std::string& id, int tail) = 0;
  // Image, environment, user, mounts and privileges of an existing container (the self-updater
  // runs with those of the podcd it replaces).
  virtual Expected<podman::ContainerSpec> RunConfigOf(const std::string& id) = 0;
  // Networks and volumes carrying podcd's stack label for `stack`.
  virtual Expected<std::vector<std::string>> StackNetworks(const std::string& stack) = 0;
  virtual Expected<std::vector<std::string>> StackVolumes(const std::string& stack) = 0;
  virtual Expected<void> RemoveNetwork(const std::string& name) = 0;
  // The OCI runtimes the host's Podman knows (policy.allowed_runtimes' default).
  virtual Expected<podman::RuntimesInfo> Runtimes() = 0;
};

// Time, behind an interface so the health gate is unit-tested without sleeping.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point Now() = 0;
  virtual void Sleep(std::chrono::milliseconds d) = 0;
};
Clock& RealClock();

}  // namespace podcd::reconcile
