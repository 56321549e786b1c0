#include "reconcile/podman_runtime.hpp"

#include "core/plan.hpp"
#include "reconcile/apply.hpp"

namespace podcd::reconcile {

// Borrows a client for one call and gives it back, keeping its connection warm.
class PodmanRuntime::Lease {
 public:
  explicit Lease(PodmanRuntime& rt) : rt_(rt), client_(rt.Acquire()) {}
  ~Lease() { rt_.Release(std::move(client_)); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  podman::Client* operator->() { return client_.get(); }

 private:
  PodmanRuntime& rt_;
  std::unique_ptr<podman::Client> client_;
};

PodmanRuntime::PodmanRuntime(podman::ClientOptions options) : options_(std::move(options)) {}
PodmanRuntime::~PodmanRuntime() = default;

std::unique_ptr<podman::Client> PodmanRuntime::Acquire() {
  {
    auto idle = idle_.Lock();
    if (!idle->empty()) {
      auto c = std::move(idle->back());
      idle->pop_back();
      return c;
    }
  }
  return std::make_unique<podman::Client>(options_);
}

void PodmanRuntime::Release(std::unique_ptr<podman::Client> client) {
  auto idle = idle_.Lock();
  if (idle->size() < 8) idle->push_back(std::move(client));
}

Expected<std::vector<core::ActualContainer>> PodmanRuntime::ListManaged() {
  auto list = Lease(*this)->ListContainers({std::string(core::kLabelStack)});
  if (!list) return std::unexpected(list.error());
  std::vector<core::ActualContainer> out;
  for (const auto& c : *list) {
    auto label = [&](std::string_view k) -> std::string {
      auto it = c.labels.find(std::string(k));
      return it == c.labels.end() ? std::string() : it->second;
    };
    core::ActualContainer a;
    a.id = c.id;
    a.name = c.name;
    a.stack = label(core::kLabelStack);
    a.service = label(core::kLabelService);
    a.fingerprint = label(core::kLabelFingerprint);
    a.commit = label(core::kLabelCommit);
    a.deployment = label(core::kLabelDeployment);
    a.field_hashes = core::DecodeFieldHashes(label(core::kLabelFields));
    a.temporary = core::IsTemporaryName(c.name);
    a.running = c.state == "running";
    a.status = c.state;
    a.exit_code = static_cast<int>(c.exit_code);
    a.health = c.health;
    a.image = c.image;
    out.push_back(std::move(a));
  }
  return out;
}

Expected<bool> PodmanRuntime::ImageExists(const std::string& image) {
  return Lease(*this)->ImageExists(image);
}

Expected<std::string> PodmanRuntime::Pull(const std::string& image, podman::PullPolicy policy) {
  return Lease(*this)->Pull(image, policy);
}

Expected<std::string> PodmanRuntime::Build(const podman::BuildRequest& request) {
  Lease c(*this);
  if (auto built = c->Build(request); !built) return std::unexpected(built.error());
  auto info = c->InspectImage(request.tags.front());
  if (!info) return std::unexpected(info.error());
  return info->id;
}

Expected<podman::ImageInfo> PodmanRuntime::InspectImage(const std::string& image) {
  return Lease(*this)->InspectImage(image);
}

Expected<std::vector<podman::ImageSummary>> PodmanRuntime::ListImages() {
  Lease c(*this);
  auto images = c->ListImages();
  if (!images) return std::unexpected(images.error());
  auto unique = c->ImageUniqueSizes();
  if (!unique) return std::unexpected(unique.error());
  for (auto& image : *images) {
    if (auto it = unique->find(image.id); it != unique->end()) image.unique_size = it->second;
  }
  return images;
}

Expected<std::vector<std::string>> PodmanRuntime::RemoveImage(const std::string& id) {
  return Lease(*this)->RemoveImage(id);
}

Expected<bool> PodmanRuntime::EnsureNetwork(const podman::NetworkCreate& network) {
  Lease c(*this);
  auto exists = c->NetworkExists(network.name);
  if (!exists) return std::unexpected(exists.error());
  if (*exists) return false;
  auto created = c->CreateNetwork(network);
  if (!created) {
    if (created.error().code == ErrorCode::kAlreadyExists) return false;  // raced another creator
    return std::unexpected(created.error());
  }
  return true;
}

Expected<bool> PodmanRuntime::EnsureVolume(const podman::VolumeCreate& volume) {
  Lease c(*this);
  auto exists = c->VolumeExists(volume.name);
  if (!exists) return std::unexpected(exists.error());
  if (*exists) return false;
  auto created = c->CreateVolume(volume);
  if (!created) {
    if (created.error().code == ErrorCode::kAlreadyExists) return false;
    return std::unexpected(created.error());
  }
  return true;
}

Expected<bool> PodmanRuntime::NetworkExists(const std::string& name) {
  return Lease(*this)->NetworkExists(name);
}

Expected<podman::NetworkInfo> PodmanRuntime::InspectNetwork(const std::string& name) {
  return Lease(*this)->InspectNetwork(name);
}

Expected<std::map<std::string, podman::NetworkEndpoint>> PodmanRuntime::ContainerNetworks(
    const std::string& id) {
  auto info = Lease(*this)->InspectContainer(id);
  if (!info) return std::unexpected(info.error());
  return info->networks;
}

Expected<void> PodmanRuntime::Connect(const std::string& network, const podman::NetworkConnect& request) {
  return Lease(*this)->ConnectNetwork(network, request);
}

Expected<std::string> PodmanRuntime::Create(const podman::ContainerSpec& spec) {
  return Lease(*this)->CreateContainer(spec);
}

Expected<void> PodmanRuntime::Start(const std::string& id) { return Lease(*this)->StartContainer(id); }

Expected<void> PodmanRuntime::Stop(const std::string& id, std::chrono::seconds grace) {
  return Lease(*this)->StopContainer(id, grace);
}

Expected<void> PodmanRuntime::Remove(const std::string& id) {
  return Lease(*this)->RemoveContainer(id, true);
}

Expected<podman::ContainerSpec> PodmanRuntime::RunConfigOf(const std::string& id) {
  return Lease(*this)->InspectRunConfig(id);
}

Expected<void> PodmanRuntime::Rename(const std::string& id, const std::string& name) {
  return Lease(*this)->RenameContainer(id, name);
}

Expected<void> PodmanRuntime::Disconnect(const std::string& id, const std::string& network) {
  return Lease(*this)->DisconnectNetwork(network, id);
}

Expected<void> PodmanRuntime::SetAliases(const std::string& id, const podman::NetworkAttachment& network) {
  Lease lease(*this);
  auto info = lease->InspectContainer(id);
  if (!info) return std::unexpected(info.error());
  podman::NetworkConnect request{id, network.aliases, "", ""};
  if (auto on = info->networks.find(network.name); on != info->networks.end()) {
    // The same address: what the container opened meanwhile (a database connection) goes on.
    request.static_ip = on->second.ip;
    request.static_mac = on->second.mac;
    if (auto off = lease->DisconnectNetwork(network.name, id); !off) return off;
  }
  return lease->ConnectNetwork(network.name, request);
}

Expected<ContainerStatus> PodmanRuntime::Inspect(const std::string& id) {
  auto info = Lease(*this)->InspectContainer(id);
  if (!info) return std::unexpected(info.error());
  return ContainerStatus{info->state.status, info->state.status == "running", info->state.exit_code,
                         info->restart_count, info->image_id};
}

Expected<podman::HealthResult> PodmanRuntime::Healthcheck(const std::string& id) {
  return Lease(*this)->RunHealthcheck(id);
}

Expected<std::string> PodmanRuntime::Logs(const std::string& id, int tail) {
  auto logs = Lease(*this)->Logs(id, tail);
  if (!logs) return std::unexpected(logs.error());
  return logs->combined;
}

Expected<std::vector<std::string>> PodmanRuntime::StackNetworks(const std::string& stack) {
  auto nets = Lease(*this)->ListNetworks({std::string(core::kLabelStack) + "=" + stack});
  if (!nets) return std::unexpected(nets.error());
  std::vector<std::string> out;
  for (const auto& n : *nets) out.push_back(n.name);
  return out;
}

Expected<std::vector<std::string>> PodmanRuntime::StackVolumes(const std::string& stack) {
  auto vols = Lease(*this)->ListVolumes({std::string(core::kLabelStack) + "=" + stack});
  if (!vols) return std::unexpected(vols.error());
  std::vector<std::string> out;
  for (const auto& v : *vols) out.push_back(v.name);
  return out;
}

Expected<void> PodmanRuntime::RemoveNetwork(const std::string& name) {
  return Lease(*this)->RemoveNetwork(name);
}

Expected<podman::RuntimesInfo> PodmanRuntime::Runtimes() { return Lease(*this)->Runtimes(); }

}  // namespace podcd::reconcile
