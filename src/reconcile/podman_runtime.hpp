// PodmanRuntime: reconcile::Runtime over the libpod REST client, safe to call from the
// applier's parallel service tasks (a small pool of clients, one connection each).
#pragma once

#include <memory>
#include <vector>

#include "config/config.hpp"
#include "podman/client.hpp"
#include "reconcile/runtime.hpp"
#include "util/guarded.hpp"

namespace podcd::reconcile {

class PodmanRuntime final : public Runtime {
 public:
  explicit PodmanRuntime(podman::ClientOptions options);
  ~PodmanRuntime() override;

  Expected<std::vector<core::ActualContainer>> ListManaged() override;
  Expected<bool> ImageExists(const std::string& image) override;
  Expected<std::string> Pull(const std::string& image, podman::PullPolicy policy) override;
  Expected<std::string> Build(const podman::BuildRequest& request) override;
  Expected<podman::ImageInfo> InspectImage(const std::string& image) override;
  Expected<std::vector<podman::ImageSummary>> ListImages() override;
  Expected<std::vector<std::string>> RemoveImage(const std::string& id) override;
  Expected<bool> EnsureNetwork(const podman::NetworkCreate& network) override;
  Expected<bool> EnsureVolume(const podman::VolumeCreate& volume) override;
  Expected<bool> NetworkExists(const std::string& name) override;
  Expected<podman::NetworkInfo> InspectNetwork(const std::string& name) override;
  Expected<std::map<std::string, podman::NetworkEndpoint>> ContainerNetworks(const std::string& id) override;
  Expected<void> Connect(const std::string& network, const podman::NetworkConnect& request) override;
  Expected<std::string> Create(const podman::ContainerSpec& spec) override;
  Expected<void> Start(const std::string& id) override;
  Expected<void> Stop(const std::string& id, std::chrono::seconds grace) override;
  Expected<void> Remove(const std::string& id) override;
  Expected<void> Rename(const std::string& id, const std::string& name) override;
  Expected<void> Disconnect(const std::string& id, const std::string& network) override;
  Expected<void> SetAliases(const std::string& id, const podman::NetworkAttachment& network) override;
  Expected<ContainerStatus> Inspect(const std::string& id) override;
  Expected<podman::HealthResult> Healthcheck(const std::string& id) override;
  Expected<std::string> Logs(const std::string& id, int tail) override;
  Expected<podman::ContainerSpec> RunConfigOf(const std::string& id) override;
  Expected<std::vector<std::string>> StackNetworks(const std::string& stack) override;
  Expected<std::vector<std::string>> StackVolumes(const std::string& stack) override;
  Expected<void> RemoveNetwork(const std::string& name) override;
  Expected<podman::RuntimesInfo> Runtimes() override;

 private:
  class Lease;
  std::unique_ptr<podman::Client> Acquire();
  void Release(std::unique_ptr<podman::Client> client);

  podman::ClientOptions options_;
  Guarded<std::vector<std::unique_ptr<podman::Client>>> idle_;
};

}  // namespace podcd::reconcile
