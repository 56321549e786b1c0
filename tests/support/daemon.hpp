// A `podcd serve` child process for tests: started with a configuration whose listen port is
// 0 (the port is read from its "listening" log line), killed (SIGKILL) and reaped on scope
// exit if still running.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace podcd::test {

// A `podcd serve` child; killed (SIGKILL) and reaped on scope exit if still running.
class Daemon {
 public:
  // `extra_env`: VAR=value pairs for the daemon ("" for none). `binary`: what runs
  // `--config <config> serve` (podcd, or a test build of the daemon).
  Daemon(const std::filesystem::path& config, std::filesystem::path log, const std::string& extra_env,
         const std::string& binary = PODCD_BINARY)
      : log_(std::move(log)) {
    std::string cmd = "exec env " + extra_env + " " + binary + " --config " + config.string() + " serve >" +
                      log_.string() + " 2>&1";
    pid_ = fork();
    if (pid_ == 0) {
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // The port is in the "listening" log line (the config asks for port 0).
    for (int i = 0; i < 3000 && port_ == 0 && Running(); ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      auto text = ss.str();
      auto at = text.find("listening address=127.0.0.1:");
      if (at != std::string::npos) {
        port_ = static_cast<std::uint16_t>(std::stoi(text.substr(at + 28)));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  ~Daemon() {
    if (pid_ > 0 && exit_status_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool Running() {
    if (exit_status_ >= 0) return false;
    int st = 0;
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return false;
    }
    return true;
  }
  int Terminate() {
    kill(pid_, SIGTERM);
    return Wait();
  }
  void Signal(int sig) { kill(pid_, sig); }
  [[nodiscard]] pid_t Pid() const { return pid_; }
  // Waits (at most 10 s) until the log has `text` at least `count` times.
  bool WaitForLog(const std::string& text, int count = 1) {
    for (int i = 0; i < 1000; ++i) {
      auto log = Log();
      int n = 0;
      for (auto at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
      if (n >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  int Wait() {
    if (exit_status_ >= 0) return exit_status_;
    int st = 0;
    waitpid(pid_, &st, 0);
    exit_status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    return exit_status_;
  }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::uint16_t port() const { return port_; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::uint16_t port_ = 0;
  std::filesystem::path log_;
};

}  // namespace podcd::test
