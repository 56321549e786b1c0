#include "daemon/worker_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "util/log.hpp"
#include "util/scope_exit.hpp"

extern char** environ;

namespace podcd::daemon {
namespace {

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

std::string EndedHow(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return "killed by signal " + std::to_string(WTERMSIG(status)) +
           (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "status " + std::to_string(status);
}

// Writes all of `data`; false when the worker closed its stdin (it died) or on an error.
// MSG_NOSIGNAL: a worker that died early must not kill the caller with SIGPIPE.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

WorkerLauncher::WorkerLauncher(std::string binary, std::vector<std::string> global_args)
    : binary_(std::move(binary)), global_args_(std::move(global_args)) {}

Expected<void> WorkerLauncher::Run(std::string_view command, const reconcile::worker::Request& request,
                                   reconcile::RunContext& ctx, std::string* data) const {
  const std::string what = "worker process (podcd " + std::string(command) + ")";
  int in[2] = {-1, -1};
  int out[2] = {-1, -1};
  // stdin is a socket so that writing to a worker that died is an error, not SIGPIPE.
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    const int err = errno;
    CloseFd(in[0]), CloseFd(in[1]), CloseFd(out[0]), CloseFd(out[1]);
    return Fail(ErrorCode::kInternal, std::string("socketpair/pipe: ") + std::strerror(err), what);
  }
  ScopeExit close_all([&] { CloseFd(in[0]), CloseFd(in[1]), CloseFd(out[0]), CloseFd(out[1]); });

  std::vector<std::string> args{binary_};
  args.insert(args.end(), global_args_.begin(), global_args_.end());
  args.emplace_back(command);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  // Nothing of the daemon's (its listening socket, the state lock) leaks into the worker.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The daemon blocks its own signals in every thread; the worker starts with its stop
  // signals still blocked and unblocks them once its handler is in place (cli/worker.cpp).
  const sigset_t stops = reconcile::worker::StopSignals();
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &stops);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = -1;
  const int spawned = ::posix_spawn(&pid, binary_.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0)
    return Fail(ErrorCode::kInternal, "cannot start " + binary_ + ": " + std::strerror(spawned), what);
  CloseFd(in[0]);
  CloseFd(out[1]);
  log::Debug("worker started", {{"command", std::string(command)}, {"pid", std::to_string(pid)}});

  // The worker reads its whole request before it writes anything.
  reconcile::worker::Request stamped = request;
  stamped.daemon_version = PODCD_VERSION;
  (void)WriteAll(in[1], reconcile::worker::EncodeRequest(stamped));
  CloseFd(in[1]);

  std::optional<Expected<void>> result;
  std::string buffer;
  bool stop_sent = false;
  constexpr std::size_t kMaxLine = 8u << 20;
  auto handle_line = [&](std::string_view line) {
    if (line.empty()) return;
    auto applied = reconcile::worker::ApplyEvent(line, ctx);
    if (!applied) {
      log::Warn("unreadable line from a worker",
                {{"command", std::string(command)}, {"error", applied.error().What()}});
      return;
    }
    if (applied->result) result = std::move(*applied->result);
    if (applied->data && data != nullptr) *data = std::move(*applied->data);
  };
  for (;;) {
    if (!stop_sent && ctx.StopRequested()) {
      ::kill(pid, SIGTERM);
      stop_sent = true;
    }
    pollfd p{out[0], POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) continue;
    char chunk[16384];
    ssize_t n = ::read(out[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    buffer.append(chunk, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1)
      handle_line(std::string_view(buffer).substr(start, nl - start));
    buffer.erase(0, start);
    if (buffer.size() > kMaxLine) {
      log::Warn("a worker line is too long; dropped", {{"command", std::string(command)}});
      buffer.clear();
    }
  }
  handle_line(buffer);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  log::Debug("worker ended", {{"command", std::string(command)}, {"how", EndedHow(status)}});
  if (result) return std::move(*result);
  return Fail(ErrorCode::kInternal, "ended without a result: " + EndedHow(status), what);
}

}  // namespace podcd::daemon
