// `podcd serve`: the daemon is its own small executable, podcd-serve, installed beside podcd
// (it links neither libcurl nor libgit2, and runs each deployment as `podcd __run`). This
// command replaces the process with it, keeping the PID (the container's PID 1).
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace podcd::cli {

int Serve(const GlobalOptions& g, const Args& args) {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  // Beside this executable; looked up on PATH only when /proc cannot tell where that is.
  const std::string daemon = ec ? std::string("podcd-serve") : (self.parent_path() / "podcd-serve").string();
  std::vector<std::string> argv_s{daemon};
  for (auto& a : GlobalArgs(g)) argv_s.push_back(std::move(a));
  argv_s.emplace_back("serve");
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  ::execvp(daemon.c_str(), argv.data());
  std::fprintf(stderr, "podcd serve: cannot run the daemon %s: %s (it is installed beside podcd)\n",
               daemon.c_str(), std::strerror(errno));
  return kExitFailure;
}

}  // namespace podcd::cli
