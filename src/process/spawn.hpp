// The one way podcd starts a child process (workers, the git sync, later hooks), with the same
// guarantees for each: its own process group, a death signal, stop signals held until the child
// is ready for them, a hard timeout that kills the group, bounded capture, stdin fed.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/error.hpp"

namespace podcd::process {

// The signals that ask a podcd child to stop at its next safe point: SIGTERM (the daemon) and
// SIGINT. A child started with block_stop_signals unblocks them once its handler is set, so
// that one sent in between is a stop request, not a kill.
sigset_t StopSignals();

struct Spec {
  // argv[0] is the program: an absolute path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Environment: the parent's, minus `env_remove`, plus `env_set` (set wins).
  std::map<std::string, std::string> env_set;
  std::vector<std::string> env_remove;
  // The child's working directory; "": the parent's. One that cannot be entered fails the start.
  std::string cwd;
  // Written to the child's stdin, which is then closed; nullopt: stdin is /dev/null. stdin is a
  // socket, so a child that dies before reading it is an error for the write, never SIGPIPE.
  std::optional<std::string> input;
  // Zero: none. At the timeout the whole group is killed (SIGKILL) and timed_out is set.
  std::chrono::milliseconds timeout{0};
  // Output past this many bytes (per stream) is read and dropped, so the child never blocks.
  std::size_t max_output_bytes = 1 << 20;
  // false: the child writes to this process's stderr (a worker's log lines are the daemon's).
  bool capture_stderr = true;
  // When set, stdout goes here chunk by chunk as it arrives instead of into Result::out.
  std::function<void(std::string_view)> on_output;
  // When set, polled at least every 100 ms; once true the child gets SIGTERM, once.
  std::function<bool()> stop_requested;
  // Called with the child's pid once it runs.
  std::function<void(pid_t)> on_start;
  // Sent to the child when the thread that started it dies (PR_SET_PDEATHSIG): a child never
  // outlives a parent killed with SIGKILL. Run blocks until the child ends, so that thread is
  // the caller's. 0: none.
  int death_signal = SIGKILL;
  // Start with StopSignals() blocked; for podcd's own children, which unblock them themselves.
  bool block_stop_signals = false;
  // The child's RLIMIT_DATA (heap, anonymous mappings, thread stacks), inherited by what it
  // starts; 0: the parent's. An allocation past it fails (podcd's children then exit with
  // kExitMemoryLimit, see ExitOnAllocationFailure).
  std::int64_t memory_limit_bytes = 0;
};

// The exit status of a podcd child whose allocation failed (ExitOnAllocationFailure).
inline constexpr int kExitMemoryLimit = 86;

// In a child that runs under a memory limit: a failed `new` ends the process at once with
// kExitMemoryLimit (and a line on stderr) instead of throwing, so the parent can say why,
// whatever thread allocated and whatever catches exceptions there.
void ExitOnAllocationFailure();

struct Result {
  int exit_code = -1;  // the exit status; 128 + signal when the child was killed by a signal
  int signal = 0;      // the terminating signal, 0 when the child exited
  bool timed_out = false;
  bool truncated = false;  // stdout or stderr exceeded max_output_bytes
  std::string out;
  std::string err;
};

// "exit status 3", "killed by signal 9 (SIGKILL)".
std::string DescribeExit(const Result& result);

// Starts the child and waits for it. Once it exits, whatever it left behind in its group (a
// background grandchild holding the pipes) is killed too, so the call never outlives the
// child. Fails only when the child cannot be started: kNotFound when argv[0] is not in PATH,
// kIo otherwise ("cannot start <argv[0]>: <why>").
Expected<Result> Run(const Spec& spec);

// Convenience form of the above.
Expected<Result> Run(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env_set,
                     std::chrono::milliseconds timeout, std::size_t max_output_bytes = 1 << 20);

}  // namespace podcd::process
