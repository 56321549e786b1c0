// FakeRuntime: an in-memory, scripted reconcile::Runtime for unit tests of the applier.
// It models what matters to apply's safety: names are unique, a host port can be bound by one
// running container, images must exist to create, and every call is recorded in order.
#pragma once

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "reconcile/runtime.hpp"

namespace podcd::test {

class FakeClock final : public reconcile::Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    return std::chrono::steady_clock::time_point(std::chrono::milliseconds(now_ms_.load()));
  }
  void Sleep(std::chrono::milliseconds d) override { now_ms_ += d.count(); }
  std::atomic<std::int64_t> now_ms_{1'000'000};
};

class FakeRuntime final : public reconcile::Runtime {
 public:
  podman::RuntimesInfo runtimes{"runc", {"crun", "runc"}, true};  // what Runtimes() answers
  struct Container {
    std::string id, name, image, image_id;
    std::map<std::string, std::string> labels;
    std::vector<std::uint16_t> host_ports;
    std::string status = "created";
    std::int64_t exit_code = 0;
    std::int64_t restart_count = 0;
    std::string network_mode;  // as created ("container:<id>" when joining another)
    std::vector<std::string> command = {};
    std::map<std::string, std::string> env = {};
  };

  // Script.
  std::map<std::string, std::string> images;         // name -> id (present locally)
  std::map<std::string, std::string> registry;       // name -> id (pullable)
  std::map<std::string, std::string> exit_on_start;  // image -> "code" (dies at once)
  // A one-shot container (a hook) by name: exits at once with this code, or runs on when absent.
  std::map<std::string, std::int64_t> exit_by_name;
  std::map<std::string, std::string> logs_by_name;  // what Logs answers for that container
  std::vector<Container> removed;                   // containers removed, as they were
  std::map<std::string, std::string> health;        // image -> healthy|unhealthy|starting
  // image -> answers of successive checks (the last one repeats); takes precedence over `health`
  std::map<std::string, std::vector<std::string>> health_script;
  std::set<std::string> fail_remove;                        // container names whose removal fails
  bool fail_aliases = false;                                // SetAliases fails
  std::set<std::string> fail_image_remove;                  // image ids whose removal fails
  std::set<std::string> fail_network_create;                // "name" or "name subnet" of creates that fail
  std::map<std::string, podman::NetworkInfo> network_info;  // as created (or scripted)
  // container id -> network -> endpoint: what ContainerNetworks answers (scripted)
  std::map<std::string, std::map<std::string, podman::NetworkEndpoint>> attached;

  // Observed.
  std::vector<std::string> calls;               // "create NAME", "start NAME", ...
  std::map<std::string, Container> containers;  // by id
  // Podman as it races: a list that fails while a container goes (the next `failing_lists`
  // lists), and a container inspectable by name before any list shows it (id -> lists missed).
  int failing_lists = 0;
  std::map<std::string, int> unlisted;
  std::map<std::string, std::vector<podman::NetworkAttachment>> created_networks;  // by name, as created

  std::string Add(const std::string& name, const std::string& image,
                  std::map<std::string, std::string> labels, std::vector<std::uint16_t> ports = {},
                  bool running = true) {
    std::lock_guard lock(mu_);
    Container c{"id" + std::to_string(++next_),
                name,
                image,
                images[image],
                std::move(labels),
                std::move(ports),
                running ? "running" : "exited",
                0,
                0,
                {}};
    containers[c.id] = c;
    return c.id;
  }
  const Container* ByName(const std::string& name) {
    for (auto& [id, c] : containers) {
      if (c.name == name) return &c;
    }
    return nullptr;
  }
  std::vector<std::string> Calls() {
    std::lock_guard lock(mu_);
    return calls;
  }
  int WriteCalls() {
    int n = 0;
    for (const auto& c : Calls()) {
      if (!c.starts_with("inspect") && !c.starts_with("health") && !c.starts_with("list") &&
          !c.starts_with("exists") && !c.starts_with("logs"))
        ++n;
    }
    return n;
  }
  // Index of a call in the order made, or -1.
  int IndexOf(const std::string& call) {
    auto cs = Calls();
    for (size_t i = 0; i < cs.size(); ++i) {
      if (cs[i] == call) return static_cast<int>(i);
    }
    return -1;
  }

  Expected<std::vector<core::ActualContainer>> ListManaged() override {
    std::lock_guard lock(mu_);
    calls.push_back("list");
    if (failing_lists > 0) {
      --failing_lists;
      return Fail(ErrorCode::kInternal, "container state improper: no such container");
    }
    std::vector<core::ActualContainer> out;
    for (const auto& [id, c] : containers) {
      if (!c.labels.contains("io.podcd.stack")) continue;
      if (auto h = unlisted.find(id); h != unlisted.end() && h->second > 0) {
        --h->second;
        continue;
      }
      core::ActualContainer a;
      a.id = id;
      a.name = c.name;
      a.stack = c.labels.at("io.podcd.stack");
      a.service = c.labels.contains("io.podcd.service") ? c.labels.at("io.podcd.service") : "";
      a.fingerprint = c.labels.contains("io.podcd.fingerprint") ? c.labels.at("io.podcd.fingerprint") : "";
      a.running = c.status == "running";
      a.status = c.status;
      a.exit_code = static_cast<int>(c.exit_code);
      a.temporary = c.name.ends_with("_podcd-next");
      out.push_back(a);
    }
    return out;
  }
  Expected<bool> ImageExists(const std::string& image) override {
    std::lock_guard lock(mu_);
    calls.push_back("exists " + image);
    return images.contains(image);
  }
  Expected<std::string> Pull(const std::string& image, podman::PullPolicy policy) override {
    std::lock_guard lock(mu_);
    calls.push_back("pull " + image);
    // Like Podman: policy missing never asks the registry for an image stored locally.
    if (policy == podman::PullPolicy::kMissing && images.contains(image)) return images.at(image);
    auto it = registry.find(image);
    if (it == registry.end()) return Fail(ErrorCode::kNotFound, image + ": manifest unknown");
    images[image] = it->second;
    return it->second;
  }
  // Scripted builds: a context directory in `failing_builds` fails like a RUN step would. Each
  // build is a new image id (as with Podman 4.3's build API), labelled as asked.
  std::set<std::string> failing_builds;
  std::map<std::string, std::map<std::string, std::string>> image_labels;  // image -> labels
  Expected<std::string> Build(const podman::BuildRequest& request) override {
    std::lock_guard lock(mu_);
    calls.push_back("build " + request.tags.front());
    if (failing_builds.contains(request.context_dir))
      return Fail(ErrorCode::kInvalidArgument, "building at STEP \"RUN false\": exit status 1");
    const std::string id = "sha-built-" + std::to_string(++next_);
    for (const auto& t : request.tags) {
      images[t] = id;
      image_labels[t] = request.labels;
    }
    return id;
  }
  Expected<podman::ImageInfo> InspectImage(const std::string& image) override {
    std::lock_guard lock(mu_);
    calls.push_back("inspect image " + image);
    auto it = images.find(image);
    if (it == images.end()) {
      // By id, as Podman answers it too: every name of the image.
      podman::ImageInfo info;
      for (const auto& [name, id] : images) {
        if (id != image) continue;
        info.id = id;
        info.repo_tags.push_back(name);
      }
      if (info.id.empty()) return Fail(ErrorCode::kNotFound, image + ": image not known");
      return info;
    }
    podman::ImageInfo info;
    info.id = it->second;
    if (auto l = image_labels.find(image); l != image_labels.end()) info.labels = l->second;
    return info;
  }
  // The store as `images` holds it: one image per id, its names as tags, 1000 bytes each.
  Expected<std::vector<podman::ImageSummary>> ListImages() override {
    std::lock_guard lock(mu_);
    calls.push_back("list images");
    std::map<std::string, podman::ImageSummary> by_id;
    for (const auto& [name, id] : images) {
      auto& image = by_id[id];
      image.id = id;
      image.repo_tags.push_back(name);
      image.size = image.unique_size = 1000;
    }
    for (const auto& [cid, c] : containers) {
      if (auto it = by_id.find(c.image_id); it != by_id.end()) ++it->second.containers;
    }
    std::vector<podman::ImageSummary> out;
    for (auto& [id, image] : by_id) out.push_back(std::move(image));
    return out;
  }
  // Like Podman without force: refused while a container uses the image or it has two names.
  Expected<std::vector<std::string>> RemoveImage(const std::string& id) override {
    std::lock_guard lock(mu_);
    calls.push_back("remove image " + id);
    if (fail_image_remove.contains(id)) return Fail(ErrorCode::kInternal, "image is in use by a build");
    for (const auto& [cid, c] : containers) {
      if (c.image_id == id) return Fail(ErrorCode::kAlreadyExists, "image used by container " + cid);
    }
    std::vector<std::string> names;
    for (const auto& [name, image] : images) {
      if (image == id) names.push_back(name);
    }
    if (names.empty()) return Fail(ErrorCode::kNotFound, id + ": image not known");
    if (names.size() > 1)
      return Fail(ErrorCode::kInternal, "unable to delete image by ID with more than one tag");
    images.erase(names.front());
    return std::vector<std::string>{id};
  }
  Expected<bool> EnsureNetwork(const podman::NetworkCreate& n) override {
    std::lock_guard lock(mu_);
    if (networks_.contains(n.name)) return false;
    if (fail_network_create.contains(n.name) ||
        (!n.subnets.empty() && fail_network_create.contains(n.name + " " + n.subnets.front().subnet)))
      return Fail(ErrorCode::kInternal, "subnet already used");
    calls.push_back("network create " + n.name);
    networks_.insert(n.name);
    podman::NetworkInfo info;
    info.name = n.name;
    info.labels = n.labels;
    info.subnets = n.subnets;
    network_info[n.name] = info;
    return true;
  }
  Expected<podman::NetworkInfo> InspectNetwork(const std::string& name) override {
    std::lock_guard lock(mu_);
    if (!networks_.contains(name)) return Fail(ErrorCode::kNotFound, name + ": network not found");
    return network_info[name];
  }
  Expected<std::map<std::string, podman::NetworkEndpoint>> ContainerNetworks(const std::string& id) override {
    std::lock_guard lock(mu_);
    return attached[id];
  }
  Expected<void> Connect(const std::string& network, const podman::NetworkConnect& request) override {
    std::lock_guard lock(mu_);
    calls.push_back("connect " + containers.at(request.container).name + " " + network + " " +
                    request.static_ip);
    attached[request.container][network] = {request.static_ip, request.static_mac, request.aliases};
    return {};
  }
  Expected<bool> EnsureVolume(const podman::VolumeCreate& v) override {
    std::lock_guard lock(mu_);
    if (volumes_.contains(v.name)) return false;
    calls.push_back("volume create " + v.name);
    volumes_.insert(v.name);
    return true;
  }
  Expected<bool> NetworkExists(const std::string& name) override {
    std::lock_guard lock(mu_);
    return networks_.contains(name);
  }
  Expected<std::string> Create(const podman::ContainerSpec& spec) override {
    std::lock_guard lock(mu_);
    calls.push_back("create " + spec.name);
    if (ByName(spec.name)) return Fail(ErrorCode::kAlreadyExists, "name \"" + spec.name + "\" is in use");
    if (!images.contains(spec.image)) return Fail(ErrorCode::kNotFound, spec.image + ": image not known");
    Container c{"id" + std::to_string(++next_),
                spec.name,
                spec.image,
                images[spec.image],
                spec.labels,
                {},
                "created",
                0,
                0,
                spec.network_mode,
                spec.command,
                spec.env};
    for (const auto& p : spec.ports) c.host_ports.push_back(p.host_port);
    created_networks[spec.name] = spec.networks;
    containers[c.id] = c;
    return c.id;
  }
  Expected<void> Start(const std::string& id) override {
    std::lock_guard lock(mu_);
    if (!containers.contains(id)) return Fail(ErrorCode::kNotFound, "no such container " + id);
    auto& c = containers.at(id);
    calls.push_back("start " + c.name);
    for (const auto& [oid, o] : containers) {
      if (oid == id || o.status != "running") continue;
      for (auto p : c.host_ports) {
        for (auto q : o.host_ports) {
          if (p == q && p != 0)
            return Fail(ErrorCode::kInternal, "rootlessport listen tcp 0.0.0.0:" + std::to_string(p) +
                                                  ": bind: address already in use");
        }
      }
    }
    if (auto code = exit_by_name.find(c.name); code != exit_by_name.end()) {
      c.status = "exited";
      c.exit_code = code->second;
    } else if (auto it = exit_on_start.find(c.image); it != exit_on_start.end()) {
      c.status = "exited";
      c.exit_code = std::stoi(it->second);
    } else {
      c.status = "running";
    }
    return {};
  }
  Expected<void> Stop(const std::string& id, std::chrono::seconds) override {
    std::lock_guard lock(mu_);
    if (!containers.contains(id)) return Fail(ErrorCode::kNotFound, "no such container " + id);
    auto& c = containers.at(id);
    calls.push_back("stop " + c.name);
    if (c.status == "running") c.status = "exited";
    return {};
  }
  Expected<void> Remove(const std::string& id) override {
    std::lock_guard lock(mu_);
    if (!containers.contains(id)) {
      calls.push_back("remove " + id);
      return Fail(ErrorCode::kNotFound,
                  "no container with name or ID \"" + id + "\" found: no such container");
    }
    auto& c = containers.at(id);
    calls.push_back("remove " + c.name);
    if (fail_remove.contains(c.name)) return Fail(ErrorCode::kInternal, "device or resource busy");
    for (const auto& [oid, o] : containers) {
      if (o.network_mode == "container:" + id || o.network_mode == "container:" + c.name)
        return Fail(ErrorCode::kInternal,
                    "container " + id + " has dependent containers which must be removed before it: " + oid);
    }
    removed.push_back(c);
    containers.erase(id);
    return {};
  }
  Expected<void> Rename(const std::string& id, const std::string& name) override {
    std::lock_guard lock(mu_);
    auto& c = containers.at(id);
    calls.push_back("rename " + c.name + " " + name);
    for (const auto& [oid, o] : containers) {
      if (o.name == name) return Fail(ErrorCode::kAlreadyExists, "name in use");
    }
    c.name = name;
    return {};
  }
  Expected<reconcile::ContainerStatus> Inspect(const std::string& id) override {
    std::lock_guard lock(mu_);
    calls.push_back("inspect");
    auto it = containers.find(id);
    if (it == containers.end()) {  // Podman takes a name too
      it = std::find_if(containers.begin(), containers.end(),
                        [&](const auto& e) { return e.second.name == id; });
    }
    if (it == containers.end()) return Fail(ErrorCode::kNotFound, "no such container");
    const auto& c = it->second;
    return reconcile::ContainerStatus{c.status, c.status == "running", c.exit_code, c.restart_count,
                                      c.image_id};
  }
  Expected<podman::HealthResult> Healthcheck(const std::string& id) override {
    std::lock_guard lock(mu_);
    calls.push_back("health");
    const auto& c = containers.at(id);
    podman::HealthResult h;
    auto it = health.find(c.image);
    h.status = it == health.end() ? "healthy" : it->second;
    if (auto sc = health_script.find(c.image); sc != health_script.end() && !sc->second.empty()) {
      h.status = sc->second.front();
      if (sc->second.size() > 1) sc->second.erase(sc->second.begin());
    }
    if (h.status == "unhealthy") h.output = "connection refused";
    return h;
  }
  Expected<podman::ContainerSpec> RunConfigOf(const std::string& id) override {
    std::lock_guard lock(mu_);
    calls.push_back("inspect");
    auto it = containers.find(id);
    if (it == containers.end()) return Fail(ErrorCode::kNotFound, "no such container");
    podman::ContainerSpec s;
    s.name = it->second.name;
    s.image = it->second.image;
    return s;
  }
  Expected<std::string> Logs(const std::string& id, int) override {
    std::lock_guard lock(mu_);
    calls.push_back("logs");
    if (auto it = logs_by_name.find(containers.at(id).name); it != logs_by_name.end()) return it->second;
    return "starting " + containers.at(id).name + "\nfatal: config missing\n";
  }
  Expected<std::vector<std::string>> StackNetworks(const std::string& stack) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& n : networks_) {
      if (n.starts_with(stack + "_")) out.push_back(n);
    }
    return out;
  }
  Expected<std::vector<std::string>> StackVolumes(const std::string& stack) override {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const auto& v : volumes_) {
      if (v.starts_with(stack + "_")) out.push_back(v);
    }
    return out;
  }
  Expected<void> Disconnect(const std::string& id, const std::string& network) override {
    std::lock_guard lock(mu_);
    calls.push_back("disconnect " + containers.at(id).name + " " + network);
    attached[id].erase(network);
    return {};
  }
  Expected<void> SetAliases(const std::string& id, const podman::NetworkAttachment& network) override {
    std::lock_guard lock(mu_);
    std::string aliases;
    for (const auto& a : network.aliases) aliases += (aliases.empty() ? "" : ",") + a;
    calls.push_back("aliases " + containers.at(id).name + " " + network.name + " " + aliases);
    if (fail_aliases) return Fail(ErrorCode::kInternal, "network connect failed");
    return {};
  }
  Expected<void> RemoveNetwork(const std::string& name) override {
    std::lock_guard lock(mu_);
    calls.push_back("network remove " + name);
    networks_.erase(name);
    network_info.erase(name);
    return {};
  }
  Expected<podman::RuntimesInfo> Runtimes() override {
    std::lock_guard lock(mu_);
    calls.push_back("runtimes");
    return runtimes;
  }

 private:
  std::mutex mu_;
  int next_ = 0;
  std::set<std::string> volumes_;

 public:
  // Networks present (a test may add one, as if an earlier run created it).
  std::set<std::string> networks_;
};

}  // namespace podcd::test
