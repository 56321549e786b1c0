// Reaching the test Podman service that scripts/testenv.sh starts, and cleaning up after tests.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "podman/client.hpp"
#include "support/skip.hpp"

namespace podcd::test {

struct PodmanEnv {
  std::string socket;
  std::string registry;        // host:port of the loopback registry
  std::string image;           // localhost/bb:1
  std::string registry_image;  // <registry>/bb:1
};

inline std::optional<PodmanEnv> GetPodmanEnv() {
  const char* socket = std::getenv("PODCD_TEST_PODMAN_SOCKET");
  if (socket == nullptr || *socket == '\0') return std::nullopt;
  PodmanEnv env;
  env.socket = socket;
  const char* registry = std::getenv("PODCD_TEST_REGISTRY");
  env.registry = registry != nullptr ? registry : "";
  env.image = "localhost/bb:1";
  env.registry_image = env.registry.empty() ? "" : env.registry + "/bb:1";
  return env;
}

inline podman::ClientOptions TestClientOptions(const PodmanEnv& env) {
  podman::ClientOptions o;
  o.socket_path = env.socket;
  o.timeout = std::chrono::seconds(60);
  o.long_timeout = std::chrono::minutes(5);
  return o;
}

// A name no other test (or test process) uses: podcdtest-<pid>-<n>-<what>.
inline std::string UniqueName(const std::string& what) {
  static std::atomic<int> counter{0};
  return "podcdtest-" + std::to_string(getpid()) + "-" + std::to_string(++counter) + "-" + what;
}

// A TCP port on 127.0.0.1 that is free now, with `count` free ports after it (the kernel
// picks the first; the rest are probed). 0 when none was found.
inline std::uint16_t FreeLoopbackPorts(int count = 1) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    std::vector<int> fds;
    std::uint16_t first = 0;
    bool ok = true;
    for (int i = 0; i < count && ok; ++i) {
      const int fd = socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) return 0;
      fds.push_back(fd);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(i == 0 ? 0 : first + i));
      ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      if (ok && i == 0) {
        socklen_t len = sizeof(addr);
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
        first = ntohs(addr.sin_port);
        ok = first < 65000;
      }
    }
    for (int fd : fds) close(fd);
    if (ok) return first;
  }
  return 0;
}

// Removes every container, network and volume registered with it when the test ends,
// whether it passed or not (containers first: networks and volumes in use cannot go).
class Cleanup {
 public:
  explicit Cleanup(const PodmanEnv& env) : client_(TestClientOptions(env)) {}
  ~Cleanup() {
    for (auto it = containers_.rbegin(); it != containers_.rend(); ++it) {
      static_cast<void>(client_.RemoveContainer(*it, true, std::chrono::seconds(0)));
    }
    for (const auto& n : networks_) static_cast<void>(client_.RemoveNetwork(n, true));
    for (const auto& v : volumes_) static_cast<void>(client_.RemoveVolume(v, true));
  }
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;

  const std::string& Container(const std::string& name) { return containers_.emplace_back(name); }
  const std::string& Network(const std::string& name) { return networks_.emplace_back(name); }
  const std::string& Volume(const std::string& name) { return volumes_.emplace_back(name); }

 private:
  podman::Client client_;
  std::vector<std::string> containers_;
  std::vector<std::string> networks_;
  std::vector<std::string> volumes_;
};

inline constexpr const char* kNoPodmanEnv =
    "PODCD_TEST_PODMAN_SOCKET is unset; run scripts/test.sh (it starts scripts/testenv.sh) or source "
    "<dir>/env.sh after scripts/testenv.sh start <dir>";

}  // namespace podcd::test

// Opens a test: skips it with a visible warning when no test Podman service is configured
// (scripts/test.sh always starts one), else defines `env`, `client` and `cleanup`.
#define PODCD_PODMAN_TEST_SETUP()                                        \
  auto maybe_env = ::podcd::test::GetPodmanEnv();                        \
  if (!maybe_env) PODCD_SKIP(::podcd::test::kNoPodmanEnv);               \
  const ::podcd::test::PodmanEnv& env = *maybe_env;                      \
  ::podcd::podman::Client client(::podcd::test::TestClientOptions(env)); \
  ::podcd::test::Cleanup cleanup(env)
