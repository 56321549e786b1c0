// Script: an executable shell script in a test directory, a stand-in for a program (`podcd`).
#pragma once

#include <sys/stat.h>

#include <string>

#include "support/temp_dir.hpp"

namespace podcd::test {

inline std::string Script(const TempDir& dir, const std::string& body) {
  auto p = dir.Write("worker.sh", "#!/bin/sh\n" + body);
  ::chmod(p.c_str(), 0755);
  return p.string();
}

}  // namespace podcd::test
