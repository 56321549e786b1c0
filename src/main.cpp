// podcd: arguments -> subcommand; the last line of defence against exceptions.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  try {
    return podcd::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "podcd: fatal: %s\n", e.what());
    return 1;
  }
}
