#include "process/spawn.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <new>

extern char** environ;

namespace podcd::process {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    Reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~Fd() { Reset(); }
  void Reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }
  [[nodiscard]] int Get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

// Moves a descriptor above the standard ones (a daemon may run with stdin closed): dup2 onto
// 0, 1 or 2 in the child would otherwise clobber one end with another.
int AboveStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

bool Pipe(Fd& read_end, Fd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return false;
  read_end.Reset(AboveStdio(p[0]));
  write_end.Reset(AboveStdio(p[1]));
  return read_end && write_end;
}

// Everything execve needs, built before fork: the child may call nothing that allocates.
struct Prepared {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::vector<char*> argv;
  std::vector<char*> envp;
};

std::optional<std::string> SearchPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

Expected<Prepared> Prepare(const Spec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty())
    return Fail(ErrorCode::kInvalidArgument, "no program to run");
  Prepared p;
  p.path = spec.argv.front();
  if (p.path.find('/') == std::string::npos) {
    auto found = SearchPath(p.path);
    if (!found) return Fail(ErrorCode::kNotFound, "program not found in PATH", spec.argv.front());
    p.path = *found;
  }
  p.args = spec.argv;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (spec.env_set.contains(name)) continue;
    if (std::find(spec.env_remove.begin(), spec.env_remove.end(), name) != spec.env_remove.end()) continue;
    p.env.emplace_back(entry);
  }
  for (const auto& [k, v] : spec.env_set) p.env.push_back(k + "=" + v);
  for (auto& a : p.args) p.argv.push_back(a.data());
  p.argv.push_back(nullptr);
  for (auto& e : p.env) p.envp.push_back(e.data());
  p.envp.push_back(nullptr);
  return p;
}

// The child's descriptors, as the parent holds them.
struct Pipes {
  Fd in_parent, in_child;  // stdin: a socket pair (or in_child = /dev/null)
  Fd out_parent, out_child;
  Fd err_parent, err_child;
  Fd exec_error_read, exec_error_write;  // the errno of a failed execve (CLOEXEC: EOF on success)
};

bool OpenPipes(const Spec& spec, Pipes& p) {
  if (spec.input) {
    int s[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) != 0) return false;
    p.in_parent.Reset(AboveStdio(s[0]));
    p.in_child.Reset(AboveStdio(s[1]));
    if (!p.in_parent || !p.in_child) return false;
    (void)::fcntl(p.in_parent.Get(), F_SETFL, O_NONBLOCK);
  } else {
    p.in_child.Reset(AboveStdio(::open("/dev/null", O_RDONLY | O_CLOEXEC)));
    if (!p.in_child) return false;
  }
  if (!Pipe(p.out_parent, p.out_child)) return false;
  if (spec.capture_stderr && !Pipe(p.err_parent, p.err_child)) return false;
  return Pipe(p.exec_error_read, p.exec_error_write);
}

// In the child between fork and execve: async-signal-safe calls only.
[[noreturn]] void ExecChild(const Prepared& p, const Pipes& pipes, const Spec& spec, pid_t parent) {
  ::setpgid(0, 0);
  if (spec.memory_limit_bytes > 0) {
    rlimit limit{};
    ::getrlimit(RLIMIT_DATA, &limit);
    auto bytes = static_cast<rlim_t>(spec.memory_limit_bytes);
    if (limit.rlim_max != RLIM_INFINITY) bytes = std::min(bytes, limit.rlim_max);  // never raised
    limit = {bytes, bytes};
    ::setrlimit(RLIMIT_DATA, &limit);
  }
  if (spec.death_signal != 0) ::prctl(PR_SET_PDEATHSIG, spec.death_signal);
  if (::getppid() != parent) ::_exit(127);  // the parent died before the death signal was set
  // Handlers do not survive execve but ignored signals do (a worker ignores SIGPIPE).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);
  sigset_t mask;
  sigemptyset(&mask);
  if (spec.block_stop_signals) mask = StopSignals();
  ::dup2(pipes.in_child.Get(), STDIN_FILENO);
  ::dup2(pipes.out_child.Get(), STDOUT_FILENO);
  if (pipes.err_child) ::dup2(pipes.err_child.Get(), STDERR_FILENO);
  // Nothing of the parent's (a daemon's listening socket, the state lock) leaks into the child.
  const int keep = pipes.exec_error_write.Get();
  ::syscall(SYS_close_range, 3u, static_cast<unsigned>(keep - 1), 0u);
  ::syscall(SYS_close_range, static_cast<unsigned>(keep + 1), ~0u, 0u);
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) {
    const int err = errno;
    (void)!::write(keep, &err, sizeof err);
    ::_exit(127);
  }
  ::execve(p.path.c_str(), p.argv.data(), p.envp.data());
  const int err = errno;
  (void)!::write(keep, &err, sizeof err);
  ::_exit(127);
}

// Forks the child; returns its pid, or the errno of fork or execve.
Expected<pid_t> Start(const Prepared& p, Pipes& pipes, const Spec& spec) {
  sigset_t all, old;
  sigfillset(&all);
  // No handler of ours may run in the child before its dispositions are reset.
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) ExecChild(p, pipes, spec, parent);
  const int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  const std::string what = "cannot start " + spec.argv.front() + ": ";
  if (pid < 0) return Fail(ErrorCode::kIo, what + std::strerror(fork_errno), spec.argv.front());
  pipes.exec_error_write.Reset();
  pipes.in_child.Reset();
  pipes.out_child.Reset();
  pipes.err_child.Reset();
  int exec_errno = 0;
  ssize_t n;
  while ((n = ::read(pipes.exec_error_read.Get(), &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  if (n > 0) {
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Fail(ErrorCode::kIo, what + std::strerror(exec_errno), spec.argv.front());
  }
  return pid;
}

// Feeds stdin, reads stdout and stderr, watches the exit, the timeout and the stop request.
class Session {
 public:
  Session(const Spec& spec, Pipes& pipes, pid_t pid)
      : spec_(spec), pipes_(pipes), pid_(pid), start_(Clock::now()) {
    pidfd_.Reset(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!spec_.input || spec_.input->empty()) pipes_.in_parent.Reset();
  }

  Result Wait() {
    bool killed_group = false;
    std::optional<Clock::time_point> drain_until;
    while (true) {
      CheckExit();
      if (exited_ && !killed_group) {
        // Whatever the child left running in its group may hold the pipes open.
        ::kill(-pid_, SIGKILL);
        killed_group = true;
        // After SIGKILL of the group EOF follows at once; the bound only guards against a
        // process that escaped the group holding a pipe.
        drain_until = Clock::now() + std::chrono::seconds(5);
      }
      const bool open = pipes_.out_parent || pipes_.err_parent;
      if (exited_ && (!open || Clock::now() >= *drain_until)) break;
      HandleStopAndTimeout();
      PollOnce();
    }
    return Reap();
  }

 private:
  void CheckExit() {
    if (exited_) return;
    siginfo_t info{};
    // WNOWAIT: while the child is a zombie its pid, and so its group id, cannot be reused, so
    // killing the group stays safe.
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid_)
      exited_ = true;
  }

  void HandleStopAndTimeout() {
    if (exited_) return;
    if (!stop_sent_ && spec_.stop_requested && spec_.stop_requested()) {
      ::kill(pid_, SIGTERM);
      stop_sent_ = true;
    }
    if (spec_.timeout.count() > 0 && !result_.timed_out && Clock::now() - start_ >= spec_.timeout) {
      result_.timed_out = true;
      ::kill(-pid_, SIGKILL);
    }
  }

  int PollTimeoutMs() const {
    // Without a pidfd the exit is only seen by asking: a few milliseconds, as the runner did.
    milliseconds wait = pidfd_ ? milliseconds(1000) : milliseconds(5);
    if (spec_.stop_requested) wait = std::min(wait, milliseconds(100));
    if (spec_.timeout.count() > 0 && !result_.timed_out) {
      auto left = std::chrono::duration_cast<milliseconds>(spec_.timeout - (Clock::now() - start_));
      wait = std::clamp(left + milliseconds(1), milliseconds(0), wait);
    }
    if (exited_) wait = std::min(wait, milliseconds(100));
    return static_cast<int>(wait.count());
  }

  void PollOnce() {
    std::array<pollfd, 4> fds{};
    std::size_t n = 0;
    auto add = [&](const Fd& fd, short events) {
      if (fd) fds[n++] = pollfd{fd.Get(), events, 0};
    };
    add(pipes_.in_parent, POLLOUT);
    add(pipes_.out_parent, POLLIN);
    add(pipes_.err_parent, POLLIN);
    if (!exited_) add(pidfd_, POLLIN);
    if (::poll(fds.data(), n, PollTimeoutMs()) <= 0) return;
    for (std::size_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == pipes_.in_parent.Get()) Feed();
      if (fds[i].fd == pipes_.out_parent.Get()) Read(pipes_.out_parent, true);
      if (fds[i].fd == pipes_.err_parent.Get()) Read(pipes_.err_parent, false);
    }
  }

  void Feed() {
    std::string_view left = std::string_view(*spec_.input).substr(fed_);
    ssize_t n = ::send(pipes_.in_parent.Get(), left.data(), left.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {  // the child closed its stdin (it died)
      pipes_.in_parent.Reset();
      return;
    }
    fed_ += static_cast<std::size_t>(n);
    if (fed_ == spec_.input->size()) pipes_.in_parent.Reset();
  }

  void Read(Fd& fd, bool is_out) {
    char chunk[16384];
    ssize_t n = ::read(fd.Get(), chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      fd.Reset();
      return;
    }
    const std::string_view data(chunk, static_cast<std::size_t>(n));
    if (is_out && spec_.on_output) return spec_.on_output(data);
    std::string& sink = is_out ? result_.out : result_.err;
    const std::size_t room = sink.size() < spec_.max_output_bytes ? spec_.max_output_bytes - sink.size() : 0;
    if (data.size() > room) result_.truncated = true;
    sink.append(data.substr(0, room));
  }

  Result Reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) {
      result_.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      result_.signal = WTERMSIG(status);
      result_.exit_code = 128 + result_.signal;
    }
    return std::move(result_);
  }

  const Spec& spec_;
  Pipes& pipes_;
  pid_t pid_;
  Clock::time_point start_;
  Fd pidfd_;
  std::size_t fed_ = 0;
  bool exited_ = false;
  bool stop_sent_ = false;
  Result result_;
};

}  // namespace

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

void ExitOnAllocationFailure() {
  std::set_new_handler([] {
    constexpr std::string_view kLine = "podcd: an allocation failed: the process exceeded its memory limit\n";
    (void)!::write(STDERR_FILENO, kLine.data(), kLine.size());
    ::_exit(kExitMemoryLimit);
  });
}

std::string DescribeExit(const Result& r) {
  if (r.signal == 0) return "exit status " + std::to_string(r.exit_code);
  const char* name = sigabbrev_np(r.signal);
  return "killed by signal " + std::to_string(r.signal) + (name ? std::string(" (SIG") + name + ")" : "");
}

Expected<Result> Run(const Spec& spec) {
  auto prepared = Prepare(spec);
  if (!prepared) return std::unexpected(prepared.error());
  Pipes pipes;
  if (!OpenPipes(spec, pipes))
    return Fail(ErrorCode::kIo,
                std::string("cannot start ") + spec.argv.front() + ": pipes: " + std::strerror(errno),
                spec.argv.front());
  auto pid = Start(*prepared, pipes, spec);
  if (!pid) return std::unexpected(pid.error());
  if (spec.on_start) spec.on_start(*pid);
  return Session(spec, pipes, *pid).Wait();
}

Expected<Result> Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env_set,
                     milliseconds timeout, std::size_t max_output_bytes) {
  Spec spec;
  spec.argv = argv;
  spec.env_set = env_set;
  spec.timeout = timeout;
  spec.max_output_bytes = max_output_bytes;
  return Run(spec);
}

}  // namespace podcd::process
