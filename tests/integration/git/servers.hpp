// Real git servers on loopback for the integration tests: `git daemon` and an OpenSSH sshd
// with its own configuration, host key and client keys. Each is stopped (by its pid) when the
// object goes away, also when a test fails.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "git_fixture.hpp"

extern char** environ;

namespace podcd::test {

inline std::uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

inline bool CanConnect(std::uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// A server process started with posix_spawn, killed and reaped on destruction.
class Server {
 public:
  Server(const std::vector<std::string>& argv, std::uint16_t port, const std::filesystem::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    int rc = posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    REQUIRE(rc == 0);
    for (int i = 0; i < 500 && !CanConnect(port); ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL(argv[0] << " exited at start:\n" << Slurp(log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(CanConnect(port));
  }
  ~Server() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

 private:
  pid_t pid_ = -1;
};

// git daemon serving every repository under `base` (git://127.0.0.1:port/<name>).
class GitDaemon {
 public:
  explicit GitDaemon(const std::filesystem::path& base)
      : port_(FreePort()),
        server_({"/usr/bin/git", "daemon", "--export-all", "--reuseaddr", "--informative-errors",
                 "--base-path=" + base.string(), "--port=" + std::to_string(port_), "--listen=127.0.0.1",
                 "--enable=receive-pack", base.string()},
                port_, base.parent_path() / "git-daemon.log") {}
  std::string Url(const std::string& name) const {
    return "git://127.0.0.1:" + std::to_string(port_) + "/" + name;
  }
  std::uint16_t port() const { return port_; }

 private:
  std::uint16_t port_;
  Server server_;
};

// Smart HTTP (git http-backend) behind basic auth that accepts only `token` as password
// (scripts/git_http_server.py; the token goes through the environment).
class HttpGitServer {
 public:
  HttpGitServer(const std::filesystem::path& root, const std::string& token)
      : port_(FreePort()), server_(Start(root, token, port_), port_, root / "git-http.log") {
    unsetenv("GIT_HTTP_TEST_TOKEN");
  }
  std::string Url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + name;
  }

 private:
  static std::vector<std::string> Start(const std::filesystem::path& root, const std::string& token,
                                        std::uint16_t port) {
    setenv("GIT_HTTP_TEST_TOKEN", token.c_str(), 1);
    return {"/usr/bin/python3", PODCD_SOURCE_DIR "/scripts/git_http_server.py", root.string(),
            std::to_string(port)};
  }
  std::uint16_t port_;
  Server server_;
};

inline std::string CurrentUser() {
  const passwd* pw = getpwuid(getuid());
  return pw != nullptr ? pw->pw_name : "root";
}

// An sshd on loopback with a generated ed25519 host key; `client_keys` are generated and
// authorized (ed25519 and ECDSA), `stranger_key` is generated but not authorized.
class SshServer {
 public:
  explicit SshServer(const std::filesystem::path& dir)
      : dir_(dir), port_(FreePort()), server_(Start(dir, port_), port_, dir / "sshd.log") {}

  std::string Url(const std::filesystem::path& repo) const {
    return "ssh://" + CurrentUser() + "@127.0.0.1:" + std::to_string(port_) + repo.string();
  }
  std::uint16_t port() const { return port_; }
  std::filesystem::path ed25519_key() const { return dir_ / "client_ed25519"; }
  std::filesystem::path ecdsa_key() const { return dir_ / "client_ecdsa"; }
  std::filesystem::path stranger_key() const { return dir_ / "stranger_ed25519"; }
  // The host's public key line body ("ssh-ed25519 AAAA...").
  std::string host_public_key() const {
    std::string line = Slurp(dir_ / "host_ed25519.pub");
    auto sp = line.find(' ', line.find(' ') + 1);
    return line.substr(0, sp);
  }
  std::string known_hosts_line() const {
    return "[127.0.0.1]:" + std::to_string(port_) + " " + host_public_key() + "\n";
  }

 private:
  static std::vector<std::string> Start(const std::filesystem::path& dir, std::uint16_t port) {
    std::filesystem::create_directories(dir);
    std::error_code ec;
    std::filesystem::create_directories("/run/sshd", ec);  // privilege separation directory
    auto keygen = [&](const std::string& type, const std::string& name) {
      Sh("ssh-keygen -q -t " + type + " -N '' -C podcd-test -f " + Quote((dir / name).string()));
    };
    keygen("ed25519", "host_ed25519");
    keygen("ed25519", "client_ed25519");
    keygen("ecdsa", "client_ecdsa");
    keygen("ed25519", "stranger_ed25519");
    Sh("cat " + Quote((dir / "client_ed25519.pub").string()) + " " +
       Quote((dir / "client_ecdsa.pub").string()) + " > " + Quote((dir / "authorized_keys").string()));
    const auto cfg = dir / "sshd_config";
    std::ofstream(cfg) << "ListenAddress 127.0.0.1\n"
                       << "HostKey " << (dir / "host_ed25519").string() << "\n"
                       << "AuthorizedKeysFile " << (dir / "authorized_keys").string() << "\n"
                       << "PidFile " << (dir / "sshd.pid").string() << "\n"
                       << "UsePAM no\nStrictModes no\nPasswordAuthentication no\n"
                       << "KbdInteractiveAuthentication no\nPubkeyAuthentication yes\n"
                       << "PermitRootLogin prohibit-password\nMaxAuthTries 6\nLogLevel VERBOSE\n";
    return {"/usr/sbin/sshd", "-D", "-e", "-f", cfg.string(), "-p", std::to_string(port)};
  }

  std::filesystem::path dir_;
  std::uint16_t port_;
  Server server_;
};

}  // namespace podcd::test
