// Runs a child process with a hard timeout and bounded output capture (Boost.Process behind it).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "util/error.hpp"

namespace podcd::hooks {

struct ChildSpec {
  // argv[0] is the program: an absolute path, or a name looked up in PATH.
  std::vector<std::string> argv;
  // Environment: the parent's, minus `env_remove`, plus `env_set` (set wins).
  std::map<std::string, std::string> env_set;
  std::vector<std::string> env_remove;
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  // Output past this many bytes (per stream) is read and dropped, so the child never blocks.
  std::size_t max_output_bytes = 1 << 20;
};

struct ChildResult {
  int exit_code = -1;  // the exit status; 128 + signal when the child was killed by a signal
  int signal = 0;      // the terminating signal, 0 when the child exited
  bool timed_out = false;
  bool truncated = false;  // stdout or stderr exceeded max_output_bytes
  std::string out;
  std::string err;
};

// Starts the child in its own process group with stdin from /dev/null and waits for it, at
// most `timeout`. On timeout the whole group is killed (SIGKILL) and timed_out is set. When the
// child exits, whatever it left behind in its group (a background grandchild holding the
// pipes) is killed too, so the call never outlives the child. Fails only when the child cannot
// be started.
Expected<ChildResult> RunChild(const ChildSpec& spec);

// Convenience form of the above.
Expected<ChildResult> RunChild(const std::vector<std::string>& argv,
                               const std::map<std::string, std::string>& env_set,
                               std::chrono::milliseconds timeout, std::size_t max_output_bytes = 1 << 20);

}  // namespace podcd::hooks
