// check-config's problems as a forge shows them on a pull request's changed lines: GitHub
// Actions workflow commands (`::error file=...,line=...,col=...::...`, which Gitea Actions
// reads too) and a GitLab Code Quality report (a JSON array).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace podcd::cli {

struct Problem {
  std::string stack;
  std::string file;  // relative to the repository's root; a stack's directory when unknown
  int line = 0;      // 0: unknown
  int column = 0;
  std::string message;   // with the key path it is about ("services.app.imagee: unsupported key ...")
  bool refused = false;  // by the policy (the stack is valid compose)
};

// Splits "services/a/compose.yml:4:5: services.app.x: ..." into its place and its message.
// A place is taken as a file only when it names one under `repo_root` (absolute paths there
// become relative); a problem without one is placed on `stack_dir` (repo-relative).
Problem ParseProblem(std::string_view stack, std::string_view text, const std::filesystem::path& repo_root,
                     std::string_view stack_dir, bool refused);

std::string GithubAnnotation(const Problem& p);
std::string GitlabReport(const std::vector<Problem>& problems);

}  // namespace podcd::cli
