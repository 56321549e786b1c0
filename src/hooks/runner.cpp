#include "hooks/runner.hpp"

#include <sys/wait.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/process.hpp>
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

  bp::environment env = boost::this_process::environment();
  // Only erase() and set(): Boost 1.74's environment::find() (also behind operator[]) compares
  // the whole "NAME=" with every entry and reads past the end of entries shorter than that.
  for (const auto& name : spec.env_remove) env.erase(name);
  for (const auto& [k, v] : spec.env_set) env.set(k, v);

  ChildResult result;
  asio::io_context io;
  bp::async_pipe out_pipe(io);
  bp::async_pipe err_pipe(io);
  bp::group group;
  bool exited = false;
  bool out_done = false;
  bool err_done = false;
  int raw_status = -1;
  auto maybe_finish = [&] {
    if (exited && out_done && err_done) io.stop();
  };

  bp::child child;
  std::error_code launch_ec;
  try {
    child = bp::child(exe, bp::args(args), env, bp::std_in<bp::null, bp::std_out> out_pipe,
                      bp::std_err > err_pipe, group, io, bp::on_exit([&](int, const std::error_code&) {
                        exited = true;
                        // Whatever the child left running in its group may hold the pipes open.
                        std::error_code ignored;
                        group.terminate(ignored);
                        maybe_finish();
                      }),
                      launch_ec);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kIo, std::string("cannot start: ") + e.what(), spec.argv.front());
  }
  if (launch_ec) {
    return Fail(ErrorCode::kIo, "cannot start: " + launch_ec.message(), spec.argv.front());
  }
  auto out_reader = std::make_shared<PipeReader>(out_pipe, result.out, spec.max_output_bytes,
                                                 result.truncated, out_done, maybe_finish);
  auto err_reader = std::make_shared<PipeReader>(err_pipe, result.err, spec.max_output_bytes,
                                                 result.truncated, err_done, maybe_finish);
  out_reader->Start();
  err_reader->Start();

  io.run_for(spec.timeout);
  if (!exited) {
    result.timed_out = true;
    std::error_code ignored;
    group.terminate(ignored);
  }
  if (!(exited && out_done && err_done)) {
    // After SIGKILL of the whole group the exit and the pipes' EOF follow at once; the bound
    // only guards against a process that escaped the group holding a pipe.
    io.restart();
    io.run_for(std::chrono::seconds(5));
  }
  if (!exited) {
    std::error_code ignored;
    child.wait(ignored);
  }
  raw_status = child.native_exit_code();
  if (WIFEXITED(raw_status)) {
    result.exit_code = WEXITSTATUS(raw_status);
  } else if (WIFSIGNALED(raw_status)) {
    result.signal = WTERMSIG(raw_status);
    result.exit_code = 128 + result.signal;
  }
  return result;
}

}  // namespace podcd::hooks
