#include "process/spawn.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>

#include "support/temp_dir.hpp"
#include "util/strings.hpp"

using namespace std::chrono_literals;
using podcd::process::Run;
using podcd::process::Spec;

namespace {

podcd::process::Result Sh(const std::string& script, std::chrono::milliseconds timeout = 30s,
                          std::size_t max_out = 1 << 20) {
  auto r = Run({"/bin/sh", "-c", script}, {}, timeout, max_out);
  REQUIRE(r.has_value());
  return *r;
}

// A killed process whose parent is gone may stay a zombie when PID 1 does not reap (containers).
bool Alive(pid_t pid) {
  auto stat = podcd::ReadFile("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  auto close = stat->rfind(')');
  return close != std::string::npos && close + 2 < stat->size() && (*stat)[close + 2] != 'Z';
}

}  // namespace

TEST_CASE("exit codes are reported") {
  CHECK(Sh("exit 0").exit_code == 0);
  CHECK(Sh("exit 3").exit_code == 3);
  auto r = Sh("kill -TERM $$");
  CHECK(r.signal == SIGTERM);
  CHECK(r.exit_code == 128 + SIGTERM);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("stdout and stderr are captured separately") {
  auto r = Sh("printf 'hello\\nworld'; printf oops >&2");
  CHECK(r.out == "hello\nworld");
  CHECK(r.err == "oops");
  CHECK_FALSE(r.truncated);
}

TEST_CASE("large output is read to the end and capped") {
  // 4 MiB through a 64 KiB pipe: the child only finishes if the parent keeps reading.
  auto r = Sh("head -c 4194304 /dev/zero; echo done >&2", 30s, 1000);
  CHECK(r.exit_code == 0);
  CHECK(r.out.size() == 1000);
  CHECK(r.truncated);
  CHECK(r.err == "done\n");
}

TEST_CASE("environment additions and removals reach the child") {
  setenv("PODCD_RUNNER_TEST_REMOVE", "x", 1);
  Spec spec;
  spec.argv = {"sh", "-c", "printf '%s|%s' \"$PODCD_RUNNER_TEST_ADD\" \"${PODCD_RUNNER_TEST_REMOVE-unset}\""};
  spec.env_set = {{"PODCD_RUNNER_TEST_ADD", "a b$c"}};
  spec.env_remove = {"PODCD_RUNNER_TEST_REMOVE"};
  auto r = Run(spec);
  REQUIRE(r);
  CHECK(r->out == "a b$c|unset");
  unsetenv("PODCD_RUNNER_TEST_REMOVE");
}

// Found under ASan by the reconcile e2e suite: Boost's environment::find() read past the end
// of any entry shorter than the name looked up (here "Q=1").
TEST_CASE("removing an absent variable with short entries in the environment is safe") {
  setenv("Q", "1", 1);
  Spec spec;
  spec.argv = {"sh", "-c", "printf '%s' \"$Q\""};
  spec.env_remove = {"PODCD_RUNNER_TEST_A_NAME_LONGER_THAN_ANY_SHORT_ENTRY"};
  auto r = Run(spec);
  REQUIRE(r);
  CHECK(r->out == "1");
  unsetenv("Q");
}

TEST_CASE("a sleeping child is killed at the timeout, with its group") {
  podcd::test::TempDir dir;
  auto pidfile = dir / "pid";
  auto start = std::chrono::steady_clock::now();
  auto r = Sh("sleep 60 & echo $! > " + pidfile.string() + "; echo started; wait", 500ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.timed_out);
  CHECK(r.signal == SIGKILL);
  CHECK(r.out == "started\n");
  // Not a timing assertion on performance: a child that was not killed would run for 60 s.
  CHECK(took < 30s);
  auto pid_text = podcd::ReadFile(pidfile);
  REQUIRE(pid_text);
  auto pid = static_cast<pid_t>(std::stol(*pid_text));
  // The grandchild was in the group and is gone (reaped by init; allow it a moment).
  for (int i = 0; i < 100 && Alive(pid); ++i) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(Alive(pid));
}

TEST_CASE("a grandchild holding the pipe does not hang the call") {
  podcd::test::TempDir dir;
  auto pidfile = dir / "pid";
  auto r = Sh("sleep 60 & echo $! > " + pidfile.string() + "; echo parent-done", 60s);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "parent-done\n");
  auto pid_text = podcd::ReadFile(pidfile);
  REQUIRE(pid_text);
  auto pid = static_cast<pid_t>(std::stol(*pid_text));
  for (int i = 0; i < 100 && Alive(pid); ++i) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(Alive(pid));
}

TEST_CASE("a program that does not exist is an error") {
  auto r = Run({"podcd-no-such-program-xyz"}, {}, 5s);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == podcd::ErrorCode::kNotFound);
  auto r2 = Run({"/nonexistent/prog"}, {}, 5s);
  CHECK_FALSE(r2);
}

TEST_CASE("many runs in a row do not leak descriptors in the parent") {
  auto count_fds = [] {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
    return n;
  };
  Sh("true");  // first use may open lasting descriptors (asio's internals)
  auto before = count_fds();
  for (int i = 0; i < 200; ++i) REQUIRE(Sh("echo $0").exit_code == 0);
  CHECK(count_fds() == before);
}

TEST_CASE("the exit is seen even when SIGCHLD is blocked (a daemon that sigwaits)") {
  sigset_t set, old;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  REQUIRE(pthread_sigmask(SIG_BLOCK, &set, &old) == 0);
  auto r = Run({"/bin/sh", "-c", "echo ok; exit 4"}, {}, 20s);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  REQUIRE(r);
  CHECK_FALSE(r->timed_out);
  CHECK(r->exit_code == 4);
  CHECK(r->out == "ok\n");
}

TEST_CASE("a child that closes its pipes but keeps running still hits the timeout") {
  auto r = Sh("exec >&- 2>&-; sleep 60", 300ms);
  CHECK(r.timed_out);
  CHECK(r.signal == SIGKILL);
}

namespace {

// Field `n` (1-based, after the command name) of /proc/<pid>/stat as the child printed it.
std::string StatField(const std::string& stat, int n) {
  auto close = stat.rfind(')');
  std::string_view rest = std::string_view(stat).substr(close + 2);
  for (int i = 1; i < n; ++i) rest.remove_prefix(rest.find(' ') + 1);
  return std::string(rest.substr(0, rest.find(' ')));
}

std::string StatusLine(const std::string& status, const std::string& key) {
  auto at = status.find("\n" + key + ":");
  if (at == std::string::npos) return "";
  auto start = status.find_first_not_of(" \t", at + key.size() + 2);
  return status.substr(start, status.find('\n', start) - start);
}

}  // namespace

TEST_CASE("the child runs in a process group of its own") {
  auto r = Run({"/bin/cat", "/proc/self/stat"}, {}, 10s);
  REQUIRE(r);
  const std::string pid = r->out.substr(0, r->out.find(' '));
  CHECK(StatField(r->out, 3) == pid);  // pgrp
}

TEST_CASE("stdin is fed, then closed; a child that does not read it is no SIGPIPE for the caller") {
  Spec spec;
  spec.argv = {"/bin/cat"};
  spec.input = "hello\nworld";
  auto r = Run(spec);
  REQUIRE(r);
  CHECK(r->out == "hello\nworld");
  spec.argv = {"/bin/sh", "-c", "head -c 10 >/dev/null; exit 4"};
  spec.input = std::string(8u << 20, 'x');  // far more than a socket buffer holds
  auto early = Run(spec);
  REQUIRE(early);
  CHECK(early->exit_code == 4);
  spec.input.reset();  // none: stdin is /dev/null
  spec.argv = {"/bin/sh", "-c", "wc -c"};
  auto none = Run(spec);
  REQUIRE(none);
  CHECK(podcd::Trim(none->out) == "0");
}

TEST_CASE("stop signals are blocked in the child when asked, and no disposition is inherited") {
  // The caller ignores SIGPIPE (a worker does); its child must not.
  auto old_pipe = std::signal(SIGPIPE, SIG_IGN);
  Spec spec;
  spec.argv = {"/bin/cat", "/proc/self/status"};
  auto plain = Run(spec);
  spec.block_stop_signals = true;
  auto blocked = Run(spec);
  std::signal(SIGPIPE, old_pipe);
  REQUIRE(plain);
  REQUIRE(blocked);
  CHECK(StatusLine(plain->out, "SigBlk") == "0000000000000000");
  CHECK(StatusLine(blocked->out, "SigBlk") == "0000000000004002");  // SIGTERM (15), SIGINT (2)
  CHECK(StatusLine(plain->out, "SigIgn") == "0000000000000000");
}

TEST_CASE("a child dies with the process that started it (death signal)") {
  podcd::test::TempDir dir;
  auto started_by_a_dying_parent = [&](int death_signal) -> pid_t {
    auto pidfile = dir / ("pid" + std::to_string(death_signal));
    const pid_t parent = ::fork();
    if (parent == 0) {
      Spec spec;
      spec.argv = {"/bin/sh", "-c", "echo $$ > " + pidfile.string() + "; exec sleep 60"};
      spec.death_signal = death_signal;
      (void)Run(spec);
      ::_exit(0);
    }
    std::string text;
    for (int i = 0; i < 500 && !text.ends_with('\n'); ++i) {
      std::this_thread::sleep_for(10ms);
      text = podcd::ReadFile(pidfile).value_or("");
    }
    REQUIRE(text.ends_with('\n'));
    ::kill(parent, SIGKILL);
    ::waitpid(parent, nullptr, 0);
    return static_cast<pid_t>(std::stol(text));
  };
  const pid_t child = started_by_a_dying_parent(SIGKILL);
  for (int i = 0; i < 300 && Alive(child); ++i) std::this_thread::sleep_for(10ms);
  CHECK_FALSE(Alive(child));
  // Without one, the child outlives its parent: the check above can fail.
  const pid_t orphan = started_by_a_dying_parent(0);
  std::this_thread::sleep_for(200ms);
  CHECK(Alive(orphan));
  ::kill(orphan, SIGKILL);
}

TEST_CASE("output streams as it comes; a stop request is SIGTERM to the child, once") {
  Spec spec;
  spec.argv = {"/bin/sh", "-c",
               "n=0; trap 'n=$((n+1)); echo term$n' TERM; echo started; "
               "i=0; while [ $i -lt 40 ]; do sleep 0.05; i=$((i+1)); done; exit 3"};
  std::string streamed;
  pid_t started = 0;
  spec.on_start = [&](pid_t pid) { started = pid; };
  spec.on_output = [&](std::string_view chunk) { streamed.append(chunk); };
  spec.stop_requested = [&] { return streamed.find("started") != std::string::npos; };
  auto r = Run(spec);
  REQUIRE(r);
  CHECK(started > 0);
  CHECK(r->out.empty());
  CHECK(streamed == "started\nterm1\n");
  CHECK(r->exit_code == 3);
  CHECK(podcd::process::DescribeExit(*r) == "exit status 3");
  auto killed = Run({"/bin/sh", "-c", "kill -9 $$"}, {}, 10s);
  REQUIRE(killed);
  CHECK(podcd::process::DescribeExit(*killed) == "killed by signal 9 (SIGKILL)");
}

TEST_CASE(
    "a memory limit is the child's data limit, inherited by what it starts; an allocation past it fails") {
  Spec spec;
  spec.argv = {"/bin/sh", "-c", "ulimit -d; sh -c 'ulimit -d'"};
  spec.memory_limit_bytes = std::int64_t{64} << 20;
  auto limited = Run(spec);
  REQUIRE(limited);
  CHECK(limited->out == "65536\n65536\n");  // KiB
  // 100 MB read into a shell variable: far past the limit.
  spec.argv = {"/bin/sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo ${#x}"};
  auto big = Run(spec);
  REQUIRE(big);
  CHECK(big->exit_code != 0);
  CHECK(big->out.find("100000000") == std::string::npos);
  spec.memory_limit_bytes = 0;  // the parent's
  spec.argv = {"/bin/sh", "-c", "ulimit -d"};
  auto inherited = Run(spec);
  REQUIRE(inherited);
  CHECK(inherited->out == Sh("ulimit -d").out);
}
