#include "hooks/runner.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/process.hpp>
#include <boost/process/extend.hpp>
#include <cerrno>
#include <functional>
#include <memory>

namespace podcd::hooks {
namespace {

namespace bp = boost::process;
namespace asio = boost::asio;

// Reads one pipe to EOF, keeping at most `limit` bytes.
class PipeReader : public std::enable_shared_from_this<PipeReader> {
 public:
  PipeReader(bp::async_pipe& pipe, std::string& sink, std::size_t limit, bool& truncated, bool& done,
             std::function<void()> on_done)
      : pipe_(pipe),
        sink_(sink),
        limit_(limit),
        truncated_(truncated),
        done_(done),
        on_done_(std::move(on_done)) {}

  void Start() {
    auto self = shared_from_this();
    pipe_.async_read_some(asio::buffer(buf_), [self](const boost::system::error_code& ec, std::size_t n) {
      self->Append(n);
      if (ec) {
        self->done_ = true;
        self->on_done_();
        return;
      }
      self->Start();
    });
  }

 private:
  void Append(std::size_t n) {
    std::size_t room = sink_.size() < limit_ ? limit_ - sink_.size() : 0;
    if (n > room) truncated_ = true;
    sink_.append(buf_.data(), std::min(n, room));
  }

  bp::async_pipe& pipe_;
  std::string& sink_;
  std::size_t limit_;
  bool& truncated_;
  bool& done_;
  std::function<void()> on_done_;
  std::array<char, 8192> buf_{};
};

}  // namespace

Expected<ChildResult> RunChild(const std::vector<std::string>& argv,
                               const std::map<std::string, std::string>& env_set,
                               std::chrono::milliseconds timeout, std::size_t max_output_bytes) {
  ChildSpec spec;
  spec.argv = argv;
  spec.env_set = env_set;
  spec.timeout = timeout;
  spec.max_output_bytes = max_output_bytes;
  return RunChild(spec);
}

Expected<ChildResult> RunChild(const ChildSpec& spec) {
  if (spec.argv.empty() || spec.argv.front().empty()) {
    return Fail(ErrorCode::kInvalidArgument, "no program to run");
  }
  boost::filesystem::path exe = spec.argv.front();
  if (spec.argv.front().find('/') == std::string::npos) {
    exe = bp::search_path(spec.argv.front());
    if (exe.empty()) return Fail(ErrorCode::kNotFound, "program not found in PATH", spec.argv.front());
  }
  std::vector<std::string> args(spec.argv.begin() + 1, spec.argv.end());

  // The child's environment, built by hand: Boost 1.74's environment::find() (behind
  // operator[] and emplace) reads past the end of shorter entries (ASan finds it).
  std::vector<std::string> env_entries;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string name(entry.substr(0, entry.find('=')));
    if (spec.env_set.contains(name)) continue;
    if (std::find(spec.env_remove.begin(), spec.env_remove.end(), name) != spec.env_remove.end()) continue;
    env_entries.emplace_back(entry);
  }
  for (const auto& [k, v] : spec.env_set) env_entries.push_back(k + "=" + v);
  std::vector<char*> env_ptrs;
  for (auto& entry : env_entries) env_ptrs.push_back(entry.data());
  env_ptrs.push_back(nullptr);

  ChildResult result;
  asio::io_context io;
  bp::async_pipe out_pipe(io);
  bp::async_pipe err_pipe(io);
  bp::group group;
  bool exited = false;
  bool out_done = false;
  bool err_done = false;
  auto maybe_finish = [&] {
    if (exited && out_done && err_done) io.stop();
  };

  bp::child child;
  std::error_code launch_ec;
  try {
    // No bp::on_exit: it depends on SIGCHLD reaching asio's signal_set, which never happens in
    // a daemon that blocks signals in every thread (to sigwait for SIGTERM). The exit is
    // polled with waitid instead.
    child = bp::child(exe, bp::args(args),
                      bp::extend::on_setup([&env_ptrs](auto& exec) { exec.env = env_ptrs.data(); }),
                      bp::std_in<bp::null, bp::std_out> out_pipe, bp::std_err > err_pipe, group, launch_ec);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kIo, std::string("cannot start: ") + e.what(), spec.argv.front());
  }
  if (launch_ec) {
    return Fail(ErrorCode::kIo, "cannot start: " + launch_ec.message(), spec.argv.front());
  }
  const pid_t pid = child.id();
  // Sees the exit without reaping (WNOWAIT): while the child is a zombie its pid, and so its
  // process group id, cannot be reused, so killing the group stays safe.
  auto check_exit = [&] {
    if (exited) return;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      exited = true;
      // Whatever the child left running in its group may hold the pipes open.
      std::error_code ignored;
      group.terminate(ignored);
      maybe_finish();
    }
  };
  asio::steady_timer poll(io);
  std::function<void(std::chrono::milliseconds)> arm = [&](std::chrono::milliseconds every) {
    poll.expires_after(every);
    poll.async_wait([&, every](const boost::system::error_code& ec) {
      if (ec) return;
      check_exit();
      if (!exited) arm(std::min(every * 2, std::chrono::milliseconds(8)));
    });
  };
  auto pipe_closed = [&] {
    check_exit();
    maybe_finish();
  };
  auto out_reader = std::make_shared<PipeReader>(out_pipe, result.out, spec.max_output_bytes,
                                                 result.truncated, out_done, pipe_closed);
  auto err_reader = std::make_shared<PipeReader>(err_pipe, result.err, spec.max_output_bytes,
                                                 result.truncated, err_done, pipe_closed);
  out_reader->Start();
  err_reader->Start();
  arm(std::chrono::milliseconds(1));

  io.run_for(spec.timeout);
  if (!exited) {
    result.timed_out = true;
    std::error_code ignored;
    group.terminate(ignored);
  }
  poll.cancel();
  if (!(out_done && err_done)) {
    // After SIGKILL of the whole group the pipes' EOF follows at once; the bound only guards
    // against a process that escaped the group holding a pipe.
    exited = true;
    io.restart();
    io.run_for(std::chrono::seconds(5));
  }
  int raw_status = 0;
  while (::waitpid(pid, &raw_status, 0) < 0 && errno == EINTR) {
  }
  child.detach();  // reaped here; the child object must not wait or kill by pid any more
  if (WIFEXITED(raw_status)) {
    result.exit_code = WEXITSTATUS(raw_status);
  } else if (WIFSIGNALED(raw_status)) {
    result.signal = WTERMSIG(raw_status);
    result.exit_code = 128 + result.signal;
  }
  return result;
}

}  // namespace podcd::hooks
