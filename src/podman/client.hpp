// podman::Client: typed calls to the libpod REST API (/v4.0.0/libpod) over a unix socket.
#pragma once

#include <rapidjson/document.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "curl/curl.hpp"
#include "podman/spec.hpp"
#include "util/error.hpp"

namespace podcd::config {
struct Config;
}

namespace podcd::podman {

using Labels = std::map<std::string, std::string>;

struct ClientOptions {
  std::string socket_path;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};        // every short call (inspect, create, ...)
  std::chrono::milliseconds long_timeout{600000};  // pulls and waits (config podman.timeout)
  // containers-auth.json for pulls; empty: $REGISTRY_AUTH_FILE; neither: no credentials.
  std::string auth_file;
};

// podman.socket, podman.timeout (as the long timeout) and podman.auth_file from the config.
ClientOptions OptionsFromConfig(const config::Config& config);

enum class PullPolicy { kMissing, kNewer, kAlways };
std::string_view ToString(PullPolicy policy);

struct VersionInfo {
  std::string version;      // "4.3.1"
  std::string api_version;  // libpod API version, "4.3.1"
};

// The OCI runtimes the host's Podman knows.
struct RuntimesInfo {
  std::string default_runtime;     // containers.conf's `runtime` ("runc")
  std::vector<std::string> names;  // containers.conf's [engine.runtimes], installed or not
  bool listed = false;             // the answer had the list (else only the default is known)
};

struct ImageInfo {
  std::string id;
  std::string digest;
  std::vector<std::string> repo_tags;
  Labels labels;
};

// One image of the store (`podman images -a`). `size` is Podman's: every layer of the image,
// those it shares included; `unique_size` what only this image holds (`podman system df`),
// -1 when not asked for.
struct ImageSummary {
  std::string id;
  std::string parent_id;  // the image it was built on, for a layered build; "" otherwise
  std::vector<std::string> repo_tags;
  std::int64_t size = 0;
  std::int64_t unique_size = -1;
  std::int64_t containers = 0;  // containers using it, running or not
};

struct BuildRequest {
  std::string context_dir;  // absolute
  std::string dockerfile;   // relative to the context
  std::vector<std::string> tags;
  std::map<std::string, std::string> args;
  std::string target;
  std::map<std::string, std::string> labels;
};

// One subnet of a network; the lease range is where Podman hands out addresses.
struct Subnet {
  std::string subnet;  // CIDR
  std::string gateway;
  std::string lease_start;
  std::string lease_end;
  bool operator==(const Subnet&) const = default;
};

struct NetworkCreate {
  std::string name;
  std::string driver = "bridge";
  Labels labels;
  std::map<std::string, std::string> options;
  std::vector<Subnet> subnets;  // empty: Podman picks a free one
  bool ipv6_enabled = false;
  std::map<std::string, std::string> ipam_options;  // {"driver": "dhcp"|"none"}
  bool internal = false;
  // libpod's API defaults to false (the CLI to true); without it containers cannot resolve
  // each other's names and aliases.
  bool dns_enabled = true;
};

struct NetworkInfo {
  std::string name;
  std::string id;
  std::string driver;
  std::string interface;
  Labels labels;
  std::map<std::string, std::string> options;
  bool internal = false;
  bool dns_enabled = false;
  bool ipv6_enabled = false;
  std::vector<Subnet> subnets;
  std::map<std::string, std::string> ipam_options;
};

struct VolumeCreate {
  std::string name;
  std::string driver;  // empty: "local"
  Labels labels;
  std::map<std::string, std::string> options;
};

struct VolumeInfo {
  std::string name;
  std::string driver;
  std::string mountpoint;
  Labels labels;
  std::map<std::string, std::string> options;
};

struct ContainerState {
  std::string status;  // created, running, exited, stopped, paused, ...
  bool running = false;
  bool oom_killed = false;
  std::int64_t exit_code = 0;
  std::int64_t pid = 0;
  std::string error;
  std::string health_status;  // "", starting, healthy, unhealthy
  std::int64_t failing_streak = 0;
  std::string started_at;  // RFC 3339
  std::string finished_at;
};

// A container's place on one network.
struct NetworkEndpoint {
  std::string ip;   // IPv4, "" for none
  std::string mac;  // "aa:bb:cc:dd:ee:ff"
  std::vector<std::string> aliases;
};

struct ContainerInfo {
  std::string id;
  std::string name;
  std::string image_id;
  std::string image_name;
  ContainerState state;
  std::int64_t restart_count = 0;
  Labels labels;
  std::map<std::string, NetworkEndpoint> networks;  // by network name
};

// A container joining a network (`podman network connect`): with these DNS aliases and, when
// given, this address and MAC (to keep those it had there).
struct NetworkConnect {
  std::string container;
  std::vector<std::string> aliases;
  std::string static_ip;
  std::string static_mac;
};

struct ContainerSummary {
  std::string id;
  std::string name;
  std::string image;
  std::string image_id;
  std::string state;  // created, running, exited, ...
  std::int64_t exit_code = 0;
  std::int64_t started_at = 0;  // unix seconds; <= 0 when never started
  std::string health;           // healthy, unhealthy, starting; "" without a healthcheck
  Labels labels;
};

struct HealthResult {
  std::string status;  // healthy, unhealthy, starting
  std::int64_t failing_streak = 0;
  std::int64_t exit_code = 0;  // of the check just run
  std::string output;          // its output (trimmed by Podman)
};

struct Event {
  std::string type;                               // container, image, network, volume, ...
  std::string action;                             // create, start, died, remove, health_status, ...
  std::string id;                                 // the actor's id
  std::string name;                               // the actor's name attribute, when it has one
  std::map<std::string, std::string> attributes;  // labels, image, containerExitCode, ...
  std::int64_t time_nano = 0;
};

struct LogOutput {
  std::string out;       // stdout
  std::string err;       // stderr
  std::string combined;  // both, in the order Podman recorded them
};

// Splits a libpod log body into streams. Non-TTY containers' logs come in frames with an
// 8-byte header ([stream, 0, 0, 0, size as big-endian uint32]); a body that is not a
// valid frame sequence (a TTY container's) is returned as stdout.
LogOutput DemuxLogs(std::string_view body);

// Error from a non-2xx libpod answer: Podman's own message (with its cause), the call as
// context, and a code from the status and the cause (404 and "... not found"/"no such" ->
// kNotFound; 409 and "already exists"/"already in use" -> kAlreadyExists).
Error ErrorFromResponse(long status, std::string_view body, std::string_view call);

// Not thread-safe (one curl::Curl handle, one reused connection): use one Client per thread.
class Client {
 public:
  explicit Client(ClientOptions options);

  [[nodiscard]] Expected<void> Ping();
  [[nodiscard]] Expected<VersionInfo> Version();
  // libpod's info names only the default runtime (host.ociRuntime); the Docker-compatible
  // /info on the same socket lists every runtime containers.conf knows. Slow: Podman runs
  // each helper binary for its version (1.5 to 2.5 s measured here).
  [[nodiscard]] Expected<RuntimesInfo> Runtimes();

  // Images.
  [[nodiscard]] Expected<bool> ImageExists(std::string_view name);
  [[nodiscard]] Expected<ImageInfo> InspectImage(std::string_view name);
  // Builds an image from `context` (a directory, sent as a tar archive without its .git) and
  // tags it with every name of `request.tags`. Podman's NDJSON stream answers 200 even when a
  // step fails: its {"error":...} line fails the call, with the last lines of the build.
  [[nodiscard]] Expected<void> Build(const BuildRequest& request);
  // Every image of the store, intermediate ones included.
  [[nodiscard]] Expected<std::vector<ImageSummary>> ListImages();
  // What each image holds alone, by id (`podman system df`; slower: it walks the layers).
  [[nodiscard]] Expected<std::map<std::string, std::int64_t>> ImageUniqueSizes();
  // Removes an image by id, never forced: Podman refuses when a container uses it or when it
  // has more than one tag. Returns the ids it deleted (the image, and the parents of a layered
  // build that nothing else needs any more).
  [[nodiscard]] Expected<std::vector<std::string>> RemoveImage(std::string_view id);
  // Pulls `reference` and returns the pulled image's id. Reads the NDJSON stream: an
  // {"error":...} line fails the call even though Podman answers 200.
  [[nodiscard]] Expected<std::string> Pull(std::string_view reference, PullPolicy policy);
  // Loads an image archive (`podman load`: docker-archive or oci-archive, plain or gzip), read
  // from `file` as it is sent, and returns the names Podman gave what it loaded.
  [[nodiscard]] Expected<std::vector<std::string>> LoadImage(const std::filesystem::path& file,
                                                             std::chrono::milliseconds timeout);

  // Networks.
  [[nodiscard]] Expected<NetworkInfo> CreateNetwork(const NetworkCreate& request);
  [[nodiscard]] Expected<bool> NetworkExists(std::string_view name);
  [[nodiscard]] Expected<NetworkInfo> InspectNetwork(std::string_view name);
  [[nodiscard]] Expected<void> RemoveNetwork(std::string_view name, bool force = false);
  // Takes a container off a network: its interface and its DNS names there go at once.
  [[nodiscard]] Expected<void> DisconnectNetwork(std::string_view network, std::string_view container);
  // Puts a container on a network; Podman answers an error when it is on it already.
  [[nodiscard]] Expected<void> ConnectNetwork(std::string_view network, const NetworkConnect& request);
  // label filters: "key" or "key=value", all must match.
  [[nodiscard]] Expected<std::vector<NetworkInfo>> ListNetworks(
      const std::vector<std::string>& label_filters = {});

  // Volumes. CreateVolume of an existing name fails with kAlreadyExists.
  [[nodiscard]] Expected<VolumeInfo> CreateVolume(const VolumeCreate& request);
  [[nodiscard]] Expected<bool> VolumeExists(std::string_view name);
  [[nodiscard]] Expected<VolumeInfo> InspectVolume(std::string_view name);
  // label filters: "key" or "key=value", all must match.
  [[nodiscard]] Expected<std::vector<VolumeInfo>> ListVolumes(
      const std::vector<std::string>& label_filters = {});
  [[nodiscard]] Expected<void> RemoveVolume(std::string_view name, bool force = false);

  // Containers. Create returns the new container's id.
  [[nodiscard]] Expected<std::string> CreateContainer(const ContainerSpec& spec);
  [[nodiscard]] Expected<std::string> CreateContainerFromJson(std::string_view spec_generator_json,
                                                              std::string_view name_for_errors);
  // Start and Stop succeed when the container already is in the wanted state.
  [[nodiscard]] Expected<void> StartContainer(std::string_view id);
  [[nodiscard]] Expected<void> StopContainer(std::string_view id, std::chrono::seconds grace);
  [[nodiscard]] Expected<void> KillContainer(std::string_view id, std::string_view signal = "SIGKILL");
  // Never removes the container's named volumes (v=false).
  [[nodiscard]] Expected<void> RemoveContainer(std::string_view id, bool force,
                                               std::chrono::seconds stop_grace = std::chrono::seconds(10));
  [[nodiscard]] Expected<void> RenameContainer(std::string_view id, std::string_view new_name);
  [[nodiscard]] Expected<ContainerInfo> InspectContainer(std::string_view id);
  // The raw inspect JSON, for callers and tests that need a field ContainerInfo lacks.
  [[nodiscard]] Expected<std::string> InspectContainerJson(std::string_view id);
  // What a container runs with, as a spec to start another process the same way: image,
  // environment, user, bind mounts and named volumes, privileges. (The self-updater runs with
  // the configuration of the podcd it replaces, the one known to work.)
  [[nodiscard]] Expected<ContainerSpec> InspectRunConfig(std::string_view id);
  // All containers (running or not) whose labels match every filter ("key" or "key=value").
  [[nodiscard]] Expected<std::vector<ContainerSummary>> ListContainers(
      const std::vector<std::string>& label_filters);
  // Runs the container's healthcheck once, now (Podman's own timers do not run here), then
  // reads the check's exit code and output from the container's health log (two calls).
  [[nodiscard]] Expected<HealthResult> RunHealthcheck(std::string_view id);
  // Waits until the container reaches `condition` (stopped, exited, running, healthy, ...)
  // and returns its exit code; bounded by the long timeout.
  [[nodiscard]] Expected<std::int64_t> WaitContainer(std::string_view id,
                                                     std::string_view condition = "stopped");
  // The last `tail` lines of stdout and stderr together, as Podman counts them (0: all).
  [[nodiscard]] Expected<LogOutput> Logs(std::string_view id, int tail = 50);

  // Events recorded since a unix time (seconds), up to now, without following the stream.
  // Label filters as for ListContainers ("key=value"; a bare key matches nothing in 4.3);
  // `type` empty means every type. No `until`: Podman 4.3 ends the read on a wall-clock
  // timer, so an `until` already past returns nothing, and a future one blocks until then.
  [[nodiscard]] Expected<std::vector<Event>> Events(std::int64_t since,
                                                    const std::vector<std::string>& label_filters = {},
                                                    std::string_view type = "container");

  const ClientOptions& options() const { return options_; }
  long connections_opened() const { return curl_.connections_opened(); }

 private:
  Expected<curl::HttpResponse> Call(std::string_view method, const std::string& path, std::string_view body,
                                    std::string_view call, std::chrono::milliseconds timeout,
                                    const std::vector<std::string>& headers = {});
  // InspectContainerJson(), parsed.
  Expected<rapidjson::Document> InspectContainerDoc(std::string_view id);
  // Call() that expects one of the `ok` statuses and a JSON answer; anything else is the error.
  Expected<rapidjson::Document> CallJson(std::string_view method, const std::string& path,
                                         std::string_view body, std::string_view call,
                                         std::chrono::milliseconds timeout, std::initializer_list<long> ok);
  // The registry auth file (options' auth_file, else $REGISTRY_AUTH_FILE); nullopt when none
  // is configured; an error when the configured one cannot be read.
  struct AuthFile {
    std::string path;
    std::string text;
  };
  Expected<std::optional<AuthFile>> ReadAuthFile(const std::string& call) const;
  Expected<std::optional<std::string>> AuthHeaderFor(std::string_view reference);
  Expected<bool> Exists(std::string_view kind, std::string_view name);

  ClientOptions options_;
  curl::Curl curl_;
};

}  // namespace podcd::podman
